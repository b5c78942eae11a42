/**
 * postgresql and mysql outputs end to end through a real cwm process into a
 * PostgreSQL and a MariaDB this test starts (free ports, temp dirs; ~1 s, so
 * the test does not depend on the machine's servers): CWM's documented
 * configs, each storage mode, upsert, hostile names refused and hostile values
 * stored verbatim. Tables carry this run's suffix and are dropped afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startMariadb, startPostgres, type SqlServer } from '../helpers/sql-servers.js';

/** cwm_requests_in_flight from a /metrics text. */
function inFlight(metrics: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('cwm_requests_in_flight '));
  return Number(line?.split(' ')[1] ?? 0);
}

const RUN = randomBytes(4).toString('hex');
const T = (name: string): string => `cwm_${RUN}_${name}`;
let PG: { host: string; port: number; database: string; user: string };
let MY: { host: string; port: number; database: string; user: string };
let pgServer: SqlServer;
let myServer: SqlServer;

let dir: ConfigDir;
let cwm: CwmProcess;
let pgc: pg.Client;
let my: mysql.Connection;

const relationalSchema = JSON.parse(
  '{"fields":{"event_id":{"constraints":["UNIQUE","NOT NULL"]},"amount":{"type":"integer"},"__proto__":{"column":"proto","type":"json"},"note":{"column":"__proto__"},"at":{"type":"datetime","default":"CURRENT_TIMESTAMP"}},"indexes":{"IDX":{"columns":["amount"]}}}',
) as unknown;

before(async () => {
  [pgServer, myServer] = await Promise.all([startPostgres(), startMariadb()]);
  PG = { host: '127.0.0.1', port: pgServer.port, database: 'postgres', user: 'postgres' };
  MY = { host: '127.0.0.1', port: myServer.port, database: 'test', user: 'root' };
  pgc = new pg.Client(PG);
  await pgc.connect();
  my = await mysql.createConnection(MY);
  // CWM's connection configs (docs/modules/postgresql.md, mysql.md) pointed at the local servers.
  const connections = {
    postgres_local: { type: 'postgresql', host: PG.host, port: String(PG.port), database: PG.database, user: PG.user, password: '', ssl: false, pool_min_size: 2, pool_max_size: 10 },
    mysql_local: { type: 'mysql', host: MY.host, port: MY.port, database: MY.database, user: MY.user, password: '', ssl: false },
  };
  const webhooks = {
    // CWM's docusaurus/docs/modules/postgresql.md example, table renamed for this run.
    pg_doc: { data_type: 'json', module: 'postgresql', connection: 'postgres_local', 'module-config': { table: T('events'), storage_mode: 'json', upsert: false, upsert_key: 'event_id', include_headers: true, include_timestamp: true } },
    pg_rel: { module: 'postgres', connection: 'postgres_local', 'module-config': { table: T('rel'), storage_mode: 'relational', upsert: true, upsert_key: 'event_id', schema: relationalSchema } },
    pg_hybrid: { module: 'postgresql', connection: 'postgres_local', 'module-config': { table: T('hyb'), storage_mode: 'hybrid', include_headers: false, schema: { fields: { event_id: {} } } } },
    pg_hostile: { module: 'postgresql', connection: 'postgres_local', 'module-config': { table: 'x"; DROP TABLE y; --' } },
    // CWM's docusaurus/docs/modules/mysql.md example, table renamed for this run.
    my_doc: { data_type: 'json', module: 'mysql', connection: 'mysql_local', 'module-config': { table: T('events'), storage_mode: 'json', upsert: true, upsert_key: 'event_id', include_headers: true } },
    my_rel: { module: 'mariadb', connection: 'mysql_local', 'module-config': { table: T('rel'), storage_mode: 'relational', upsert: true, upsert_key: 'event_id', schema: relationalSchema } },
    my_hostile: { module: 'mysql', connection: 'mysql_local', 'module-config': { table: 'x`; DROP TABLE y; --' } },
  };
  dir = configDirWith(webhooks, connections);
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: '3000' });
});

after(async () => {
  const code = await cwm?.stop();
  for (const t of ['events', 'rel', 'hyb']) {
    await pgc?.query(`DROP TABLE IF EXISTS "${T(t)}"`);
    await my?.query(`DROP TABLE IF EXISTS \`${T(t)}\``);
  }
  await pgc?.end();
  await my?.end();
  dir?.remove();
  await Promise.all([pgServer?.destroy(), myServer?.destroy()]);
  assert.equal(code, 0);
});

async function post(path: string, body: unknown, id: string): Promise<void> {
  const res = await cwm.post(path, body, { 'x-github-delivery': id, 'x-custom': 'v' });
  assert.equal(res.status, 200, `${path}: ${await res.text()}`);
}

const hostileValue = "x'); DROP TABLE y; -- \" ` \\";

test("postgresql: CWM's documented json-mode config stores payload, headers and webhook id; 200 means the row is committed", async () => {
  await post('/webhook/pg_doc', { event_id: 'e1', text: hostileValue }, 'pg-doc-1');
  await post('/webhook/pg_doc', [1, 'two'], 'pg-doc-2');
  const { rows } = await pgc.query<{ webhook_id: string; payload: unknown; headers: Record<string, string>; timestamp: Date }>(`SELECT webhook_id, payload, headers, "timestamp" FROM "${T('events')}" ORDER BY created_at, "timestamp"`);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows.map((r) => r.payload).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [[1, 'two'], { event_id: 'e1', text: hostileValue }]);
  assert.ok(rows.every((r) => r.webhook_id === 'pg_doc' && r.headers['x-custom'] === 'v' && r.timestamp instanceof Date));
});

test('postgresql: relational upsert updates the row; __proto__ is an ordinary payload key and column name', async () => {
  const payload = (amount: number): string => `{"event_id":"u1","amount":${amount},"__proto__":{"p":1},"note":"n","ignored":true}`;
  for (const [i, amount] of [5, 7].entries()) {
    const res = await fetch(`${cwm.baseUrl}/webhook/pg_rel`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-delivery': `pg-rel-${i}` }, body: payload(amount) });
    assert.equal(res.status, 200);
  }
  const { rows } = await pgc.query<Record<string, unknown>>(`SELECT event_id, amount, proto, "__proto__" AS note, at FROM "${T('rel')}"`);
  assert.equal(rows.length, 1);
  assert.deepEqual({ ...rows[0], at: undefined }, { event_id: 'u1', amount: '7', proto: { p: 1 }, note: 'n', at: undefined });
  assert.ok(rows[0]?.at instanceof Date, 'default CURRENT_TIMESTAMP filled');
  const idx = await pgc.query(`SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = 'IDX'`, [T('rel')]);
  assert.equal(idx.rowCount, 1, 'schema.indexes created with its quoted name');
});

test('postgresql: concurrent deliveries share multi-row INSERTs; a row breaking a constraint fails alone (503), an upsert key twice in one batch still lands (200)', async (t) => {
  const table = T('rel');
  const send = (i: number, body: string): Promise<{ i: number; status: number }> =>
    fetch(`${cwm.baseUrl}/webhook/pg_rel`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-delivery': `pg-batch-${i}` }, body }).then(async (res) => {
      await res.arrayBuffer();
      return { i, status: res.status };
    });
  /** Sends the bodies while the table is locked, so rows queue behind the waiting statements and go out in batches. */
  const sendLocked = async (bodies: readonly string[], first: number): Promise<{ i: number; status: number }[]> => {
    await pgc.query('BEGIN');
    let pending: Promise<{ i: number; status: number }[]> | undefined;
    try {
      await pgc.query(`LOCK TABLE "${table}" IN EXCLUSIVE MODE`);
      pending = Promise.all(bodies.map((b, k) => send(first + k, b)));
      await waitFor(async () => (await pgc.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'INSERT%'`)).rowCount !== 0, 2000, 'an INSERT waiting on the lock');
      // Every request inside cwm before the lock goes: on a loaded machine the last of them can arrive
      // after a fixed pause, and rows that arrive one by one each find a free slot (one run: 90 rows in 90 transactions).
      await waitFor(async () => inFlight(await (await fetch(`${cwm.baseUrl}/metrics`)).text()) >= bodies.length, 2000, 'every request in flight');
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await pgc.query('COMMIT');
    }
    return pending;
  };
  // Deterministic batching: without the lock a fast moment commits each row before the next arrives (one run
  // saw 90 rows in 90 transactions). Released once a statement is seen waiting and every request is in flight,
  // well inside OUTPUT_TIMEOUT_MS (3 s).
  assert.equal((await send(-1, '{"event_id":"warm","amount":0}')).status, 200, 'the table exists (created at the first delivery)');
  // Wave 1, only good rows: unique keys and one key five times (an upsert cannot touch a row twice in one statement).
  const good = Array.from({ length: 95 }, (_, i) => (i < 90 ? `{"event_id":"b${i}","amount":${i}}` : `{"event_id":"same","amount":${i}}`));
  const first = await sendLocked(good, 0);
  assert.deepEqual(first.filter((a) => a.status !== 200).map((a) => a.i), [], 'every good row is acknowledged');
  const { rows } = await pgc.query<{ event_id: string; amount: string; xmin: string }>(`SELECT event_id, amount, xmin::text AS xmin FROM "${table}" WHERE event_id LIKE 'b%' OR event_id = 'same'`);
  assert.equal(rows.length, 91, 'every acknowledged key is a row');
  assert.ok(rows.some((r) => r.event_id === 'same' && Number(r.amount) >= 90));
  // Rows written by one statement share its transaction id: fewer transactions than rows means batches happened.
  const transactions = new Set(rows.filter((r) => r.event_id !== 'same').map((r) => r.xmin)).size;
  t.diagnostic(`90 unique rows committed in ${transactions} transactions`);
  assert.ok(transactions < 90, `90 unique rows in ${transactions} transactions`);
  // Wave 2, good and bad rows in the same batches: a batch one row breaks is retried row by row, so only the
  // rows without the NOT NULL key fail.
  const mixed = Array.from({ length: 20 }, (_, i) => (i % 4 === 3 ? `{"amount":${i}}` : `{"event_id":"m${i}","amount":${i}}`));
  const second = await sendLocked(mixed, 100);
  assert.deepEqual(second.filter((a) => a.status !== 200).map((a) => a.i), [103, 107, 111, 115, 119], 'only the rows without event_id fail');
  assert.ok(second.filter((a) => a.status !== 200).every((a) => a.status === 503));
  const { rowCount } = await pgc.query(`SELECT 1 FROM "${table}" WHERE event_id LIKE 'm%'`);
  assert.equal(rowCount, 15, 'every good row of the mixed wave is a row');
});

test('postgresql: hybrid keeps the payload and mapped columns, without headers', async () => {
  await post('/webhook/pg_hybrid', { event_id: 'h1', more: [1] }, 'pg-hyb-1');
  const { rows } = await pgc.query<Record<string, unknown>>(`SELECT * FROM "${T('hyb')}"`);
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0]?.payload, { event_id: 'h1', more: [1] });
  assert.equal(rows[0]?.event_id, 'h1');
  assert.ok(!('headers' in (rows[0] ?? {})));
});

test('hostile table names are refused at load (404, logged); nothing named like them exists', async () => {
  for (const path of ['/webhook/pg_hostile', '/webhook/my_hostile']) assert.equal((await cwm.post(path, { a: 1 })).status, 404);
  assert.ok(cwm.logs.some((l) => JSON.stringify(l).includes('must be a plain SQL identifier')));
  const { rowCount } = await pgc.query(`SELECT 1 FROM pg_tables WHERE tablename LIKE 'x%DROP%'`);
  assert.equal(rowCount, 0);
});

test("mysql: CWM's documented json-mode config (upsert ignored in json mode, as in CWM) stores each delivery", async () => {
  await post('/webhook/my_doc', { event_id: 'e1', text: hostileValue }, 'my-doc-1');
  await post('/webhook/my_doc', { event_id: 'e1', text: 'again' }, 'my-doc-2');
  const [rows] = await my.query<mysql.RowDataPacket[]>(`SELECT webhook_id, payload, headers, \`timestamp\` FROM \`${T('events')}\``);
  assert.equal(rows.length, 2);
  const payloads = rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { text: string }).map((p) => p.text).sort();
  assert.deepEqual(payloads, ['again', hostileValue]);
  assert.ok(rows.every((r) => r.webhook_id === 'my_doc' && (typeof r.headers === 'string' ? JSON.parse(r.headers) : r.headers)['x-custom'] === 'v'));
});

test('mysql: relational upsert (ON DUPLICATE KEY UPDATE) through prepared statements; __proto__ column', async () => {
  for (const [i, amount] of [5, 9].entries()) {
    const res = await fetch(`${cwm.baseUrl}/webhook/my_rel`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-delivery': `my-rel-${i}` }, body: `{"event_id":"u1","amount":${amount},"__proto__":{"p":1},"note":"${i}"}` });
    assert.equal(res.status, 200);
  }
  const [rows] = await my.query<mysql.RowDataPacket[]>(`SELECT event_id, amount, proto, \`__proto__\` AS note FROM \`${T('rel')}\``);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.event_id, 'u1');
  assert.equal(Number(rows[0]?.amount), 9);
  assert.equal(rows[0]?.note, '1');
  assert.deepEqual(typeof rows[0]?.proto === 'string' ? JSON.parse(rows[0].proto) : rows[0]?.proto, { p: 1 });
});
