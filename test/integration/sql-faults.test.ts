/**
 * Fault tests with databases the test owns: PostgreSQL and MariaDB killed
 * (SIGKILL) mid-traffic and restarted on the same port and data dir. While
 * down the webhook answers 503 + Retry-After within OUTPUT_TIMEOUT_MS; once
 * back, 200 again within about a second; every delivery answered 200 is a row
 * at the destination (lost must be 0). Also: the connection retargeted to
 * another server mid-traffic (a new pool; the old one closes after its work).
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startMariadb, startPostgres, type SqlServer } from '../helpers/sql-servers.js';
import { startTraffic, type Outcome } from '../helpers/traffic.js';

const OUTPUT_TIMEOUT_MS = 1000;
/** Scheduling slack on a 2-core machine shared with the load loops and the servers. */
const SLACK_MS = 600;

let pgServer: SqlServer;
let maria: SqlServer;
let dir: ConfigDir;
let cwm: CwmProcess;
const connections = new Map<string, Record<string, unknown>>();

function pgConn(server: SqlServer): Record<string, unknown> {
  return { type: 'postgresql', host: '127.0.0.1', port: server.port, database: 'postgres', user: 'postgres', password: '' };
}

function myConn(server: SqlServer): Record<string, unknown> {
  return { type: 'mysql', host: '127.0.0.1', port: server.port, database: 'test', user: 'root', password: '' };
}

before(async () => {
  [pgServer, maria] = await Promise.all([startPostgres(), startMariadb()]);
  dir = makeConfigDir();
  connections.set('pg_main', pgConn(pgServer));
  connections.set('my_main', myConn(maria));
  dir.write('connections.json', Object.fromEntries(connections));
  dir.write('webhooks.json', {
    p: { module: 'postgresql', connection: 'pg_main', 'module-config': { table: 'faults' } },
    m: { module: 'mysql', connection: 'my_main', 'module-config': { table: 'faults' } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), LOG_LEVEL: 'info' });
});

after(async () => {
  const code = await cwm?.stop();
  await Promise.all([pgServer?.destroy(), maria?.destroy()]);
  dir?.remove();
  assert.equal(code, 0);
});

function send(path: string): (id: string) => Promise<Response> {
  return (id) => cwm.post(path, { id, at: Date.now() }, { 'x-github-delivery': id });
}

const ok = (outcomes: readonly Outcome[], since = 0): Outcome[] => outcomes.filter((o) => o.status === 200 && o.at >= since);
const unavailable = (outcomes: readonly Outcome[], since = 0): Outcome[] => outcomes.filter((o) => o.status === 503 && o.at >= since);

async function pgIds(server: SqlServer): Promise<string[]> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    const { rows } = await c.query<{ id: string }>(`SELECT payload->>'id' AS id FROM faults`);
    return rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

async function myIds(server: SqlServer): Promise<string[]> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root', password: '', database: 'test' });
  try {
    const [rows] = await c.query<mysql.RowDataPacket[]>(`SELECT JSON_VALUE(payload, '$.id') AS id FROM faults`);
    return rows.map((r) => String(r.id));
  } finally {
    await c.end();
  }
}

async function killAndRestart(t: TestContext, what: string, path: string, server: SqlServer, ids: (s: SqlServer) => Promise<string[]>): Promise<void> {
  const traffic = startTraffic(send(path), { concurrency: 4, prefix: `${what}-kill` });
  let firstOkAfterBackMs = -1;
  try {
    await waitFor(() => ok(traffic.outcomes).length >= 100, 20_000, '100 rows acknowledged');
    await server.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => unavailable(traffic.outcomes, killedAt).length >= 30, 15_000, '503s while the database is down');
    await server.restart();
    const backAt = Date.now();
    const first = await waitFor(() => ok(traffic.outcomes, backAt)[0], 10_000, 'a 200 once the database is back');
    firstOkAfterBackMs = first.at - backAt;
    await waitFor(() => ok(traffic.outcomes, backAt).length >= 100, 20_000, '200s once the database is back');
  } finally {
    await traffic.stop();
  }
  const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'every answer is 200 or 503');
  const refused = unavailable(traffic.outcomes);
  const slow = refused.filter((o) => o.ms > OUTPUT_TIMEOUT_MS + SLACK_MS);
  assert.deepEqual(slow.map((o) => `${o.id}:${Math.round(o.ms)}ms`), [], '503 within OUTPUT_TIMEOUT_MS');
  assert.ok(firstOkAfterBackMs >= 0 && firstOkAfterBackMs < 3000, `first 200 ${firstOkAfterBackMs} ms after the database answered again`);
  const res = await send(path)(`${what}-retry-after-probe`);
  assert.equal(res.status, 200);
  const acked = ok(traffic.outcomes).map((o) => o.id);
  const found = new Set(await ids(server));
  const lost = acked.filter((id) => !found.has(id));
  assert.deepEqual(lost, [], 'answered 200 yet missing at the destination');
  const max503 = Math.round(Math.max(...refused.map((o) => o.ms)));
  t.diagnostic(`${what} kill -9: sent=${traffic.outcomes.length} 2xx=${acked.length} 503=${refused.length} max503ms=${max503} firstOkAfterBackMs=${firstOkAfterBackMs} rows=${found.size} lost=${lost.length}`);
}

test('PostgreSQL killed mid-traffic: 503 fast while down, 200 within about a second once back, no acknowledged row lost', async (t) => {
  await killAndRestart(t, 'pg', '/webhook/p', pgServer, pgIds);
});

test('MariaDB killed mid-traffic: 503 fast while down, 200 within about a second once back, no acknowledged row lost', async (t) => {
  await killAndRestart(t, 'mysql', '/webhook/m', maria, myIds);
});

test('Retry-After on the 503 while the database is down', async () => {
  await pgServer.kill('SIGKILL');
  try {
    await waitFor(async () => {
      const res = await send('/webhook/p')(`ra-${Date.now()}`);
      await res.arrayBuffer();
      return res.status === 503 && res.headers.get('retry-after') !== null;
    }, 10_000, '503 with Retry-After');
  } finally {
    await pgServer.restart();
  }
  await waitFor(async () => (await send('/webhook/p')(`ra-back-${Date.now()}`)).status === 200, 10_000, '200 once back');
});

test('postgresql connection retargeted mid-traffic: a new pool for the new config; every acknowledged row is in one of the two', async (t) => {
  const second = await startPostgres();
  try {
    const traffic = startTraffic(send('/webhook/p'), { concurrency: 4, prefix: 'pg-rt' });
    try {
      await waitFor(() => ok(traffic.outcomes).length >= 50, 20_000, 'traffic flowing');
      const changed = (): number => cwm.logs.filter((l) => l.connection === 'pg_main' && String(l.msg).startsWith('connection changed')).length;
      const before = changed();
      connections.set('pg_main', pgConn(second));
      dir.write('connections.json', Object.fromEntries(connections));
      await waitFor(() => changed() > before, 10_000, 'pg_main retargeted');
      const probe = await send('/webhook/p')('pg-retarget-probe');
      assert.equal(probe.status, 200);
      await waitFor(() => ok(traffic.outcomes).length >= 150, 20_000, 'traffic continues');
    } finally {
      await traffic.stop();
    }
    const other = traffic.outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'a retarget to a running server answers 200 throughout');
    const [oldIds, newIds] = await Promise.all([pgIds(pgServer), pgIds(second)]);
    assert.ok(newIds.includes('pg-retarget-probe') && !oldIds.includes('pg-retarget-probe'), 'probe landed in the new database (its table created there at first use)');
    const all = new Set([...oldIds, ...newIds]);
    const acked = ok(traffic.outcomes).map((o) => o.id);
    const lost = acked.filter((id) => !all.has(id));
    assert.deepEqual(lost, [], 'acknowledged then lost');
    t.diagnostic(`pg retarget: sent=${traffic.outcomes.length} 2xx=${acked.length} inOld=${acked.filter((id) => oldIds.includes(id)).length} inNew=${acked.filter((id) => newIds.includes(id)).length} lost=${lost.length}`);
  } finally {
    connections.set('pg_main', pgConn(pgServer));
    dir.write('connections.json', Object.fromEntries(connections));
    await second.destroy();
  }
});
