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
import { waitFor } from '../helpers/ports.js';
import { startTraffic, type Outcome } from '../helpers/traffic.js';

const OUTPUT_TIMEOUT_MS = 1000;
const SLACK_MS = 600;

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

const ok = (o: readonly Outcome[], since = 0): Outcome[] => o.filter((x) => x.status === 200 && x.at >= since);
const unavailable = (o: readonly Outcome[], since = 0): Outcome[] => o.filter((x) => x.status === 503 && x.at >= since);

test('ClickHouse killed mid-traffic and restarted: 503 within the timeout, 200 again after, every acknowledged row present', async (t: TestContext) => {
  const traffic = startTraffic((id) => cwm.post('/webhook/f', { id }, { 'x-github-delivery': id }), { concurrency: 4, prefix: 'chf' });
  let downAt = 0;
  try {
    await waitFor(() => ok(traffic.outcomes).length >= 100, 20_000, '100 rows acknowledged');
    await ch.kill('SIGKILL');
    downAt = Date.now();
    await waitFor(() => unavailable(traffic.outcomes, downAt).length >= 30, 10_000, '503s while ClickHouse is down');
    await ch.restart();
    const upAt = Date.now();
    await waitFor(() => ok(traffic.outcomes, upAt).length >= 100, 20_000, '200s once ClickHouse is back');
  } finally {
    await traffic.stop();
  }
  const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'every answer is 200 or 503');
  const slow = unavailable(traffic.outcomes).filter((o) => o.ms > OUTPUT_TIMEOUT_MS + SLACK_MS);
  assert.deepEqual(slow.map((o) => `${o.id}:${Math.round(o.ms)}ms`), [], '503 within OUTPUT_TIMEOUT_MS');
  const ids = new Set((await ch.query('SELECT id FROM webhooks.faults')).trim().split('\n'));
  const acked = ok(traffic.outcomes).map((o) => o.id);
  const missing = acked.filter((id) => !ids.has(id));
  assert.deepEqual(missing, [], '2xx answers whose row is missing');
  t.diagnostic(`clickhouse fault: sent=${traffic.outcomes.length} acked=${acked.length} answered503=${unavailable(traffic.outcomes).length} max503ms=${Math.round(Math.max(...unavailable(traffic.outcomes).map((o) => o.ms)))} rows=${ids.size} missing=${missing.length}`);
});
