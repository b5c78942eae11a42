/**
 * `clickhouse` against a real ClickHouse 18.16 (Debian) started by the test:
 * CWM's documented webhook and connection (HTTP port) delivered end to end,
 * the table created with CWM's layout; the server killed mid-traffic and
 * restarted: every 2xx is a row, 503s come within OUTPUT_TIMEOUT_MS.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startClickhouse, type ClickhouseServer } from '../helpers/clickhouse.js';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { outage, tally } from '../helpers/broker-outage.js';

const OUTPUT_TIMEOUT_MS = 1000;

let ch: ClickhouseServer;
let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  ch = await startClickhouse();
  await ch.query('CREATE DATABASE IF NOT EXISTS webhooks');
  dir = makeConfigDir();
  // CWM's docs (docs/modules/clickhouse.md), on the test server's HTTP port.
  dir.write('connections.json', { clickhouse_local: { type: 'clickhouse', host: '127.0.0.1', port: ch.httpPort, database: 'webhooks', user: 'default', password: '', secure: false } });
  dir.write('webhooks.json', {
    clickhouse_webhook: { data_type: 'json', module: 'clickhouse', connection: 'clickhouse_local', 'module-config': { table: 'webhook_logs', include_headers: true, include_timestamp: true }, authorization: 'Bearer clickhouse_secret' },
    f: { module: 'clickhouse', connection: 'clickhouse_local', 'module-config': { table: 'faults', include_headers: false } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), LOG_LEVEL: 'info' });
});

after(async () => {
  if (cwm) assert.equal(await cwm.stop(), 0);
  await ch?.destroy();
  dir?.remove();
});

test("CWM's documented clickhouse webhook: a row in CWM's webhook_logs layout with payload and headers", async () => {
  const res = await cwm.post('/webhook/clickhouse_webhook', { event: 'push', n: 1 }, { authorization: 'Bearer clickhouse_secret', 'x-github-delivery': 'gh-ch-1', 'x-custom': 'yes' });
  assert.equal(res.status, 200, await res.text());
  const rows = (await ch.query("SELECT id, webhook_id, payload, headers, toString(timestamp) AS ts FROM webhooks.webhook_logs FORMAT JSONEachRow")).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(rows.length, 1);
  const row = rows[0] ?? {};
  assert.equal(row.id, 'gh-ch-1');
  assert.equal(row.webhook_id, 'clickhouse_webhook');
  assert.deepEqual(JSON.parse(row.payload ?? ''), { event: 'push', n: 1 });
  const headers = JSON.parse(row.headers ?? '{}') as Record<string, string>;
  assert.equal(headers['x-custom'], 'yes');
  assert.equal(headers.authorization, undefined, 'credentials are not stored');
  assert.match(row.ts ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  const ddl = await ch.query('SHOW CREATE TABLE webhooks.webhook_logs');
  assert.match(ddl, /MergeTree/);
  assert.match(ddl, /created_at DateTime DEFAULT now\(\)/);
});


test('ClickHouse killed mid-traffic and restarted: 503 within the timeout, 200 again after, every acknowledged row present', async (t: TestContext) => {
  const drill = await outage(cwm, '/webhook/f', ch, OUTPUT_TIMEOUT_MS, 'chf');
  const ids = new Set((await ch.query('SELECT id FROM webhooks.faults')).trim().split('\n'));
  t.diagnostic(tally('clickhouse fault (rows)', drill, ids));
});
