import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: string;
let cwm: CwmProcess;

function writeConfig(webhooks: unknown): void {
  writeFileSync(join(dir, 'webhooks.tmp'), JSON.stringify(webhooks));
  renameSync(join(dir, 'webhooks.tmp'), join(dir, 'webhooks.json'));
}

async function scrape(): Promise<string> {
  const res = await fetch(`${cwm.baseUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

/** The value of one sample, e.g. sample(text, 'cwm_requests_total{namespace="m",status="200"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

before(async () => {
  dir = tempDir('cwm-metrics-');
  writeConfig({ hook1: { module: 'log' }, hook2: { module: 'log', json_schema: { type: 'object', required: ['a'] } } });
  cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir, ETCD_NAMESPACE: 'm', ACCESS_LOG: 'true' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

test('requests are counted by namespace and status; unmatched routes share one label', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await cwm.post('/webhook/m/hook1', { i })).status, 200);
  assert.equal((await cwm.post('/webhook/m/hook2', {})).status, 422);
  // Fifty made-up namespaces must not make fifty series.
  for (let i = 0; i < 50; i++) assert.equal((await cwm.post(`/webhook/ns${i}/x`, {})).status, 404);
  assert.equal((await cwm.post('/webhook/bad%20name/x', {})).status, 400);
  const text = await scrape();
  assert.equal(sample(text, 'cwm_requests_total{namespace="m",status="200"}'), 3);
  assert.equal(sample(text, 'cwm_requests_total{namespace="m",status="422"}'), 1);
  assert.equal(sample(text, 'cwm_requests_total{namespace="_unmatched",status="404"}'), 50);
  assert.equal(sample(text, 'cwm_requests_total{namespace="_unmatched",status="400"}'), 1);
  assert.doesNotMatch(text, /namespace="ns\d+"/);
  assert.doesNotMatch(text, /webhook="/, 'no per-webhook label unless METRICS_PER_WEBHOOK');
  // The latency histogram has no labels unless METRICS_PER_WEBHOOK: every webhook request above is in it.
  assert.equal(sample(text, 'cwm_request_duration_seconds_count'), 55);
  assert.equal(sample(text, 'cwm_requests_in_flight'), 0);
  // Counts are handed to prom-client at scrape time: a second scrape must neither repeat nor lose them.
  assert.equal((await cwm.post('/webhook/m/hook1', { i: 3 })).status, 200);
  const again = await scrape();
  assert.equal(sample(again, 'cwm_requests_total{namespace="m",status="200"}'), 4);
  assert.equal(sample(again, 'cwm_requests_total{namespace="_unmatched",status="404"}'), 50);
  assert.equal(sample(again, 'cwm_request_duration_seconds_count'), 56);
});

test('config gauges: entries loaded, revision applied, invalid entries, source connected, ready', async () => {
  let text = await scrape();
  assert.equal(sample(text, 'cwm_config_entries{kind="webhook"}'), 2);
  assert.equal(sample(text, 'cwm_config_revision'), 1);
  assert.equal(sample(text, 'cwm_config_source_connected'), 1);
  assert.equal(sample(text, 'cwm_ready'), 1);
  assert.equal(sample(text, 'cwm_output_errors_total'), undefined, 'declared, no samples until an output fails');
  assert.match(text, /# TYPE cwm_output_errors_total counter/);
  assert.match(text, /# TYPE cwm_etcd_watch_reconnects_total counter/);
  writeConfig({ hook1: { module: 'log' }, hook2: { module: 'log', rate_limit: { max_requests: 0 } }, hook3: { module: 'log' } });
  text = await waitFor(async () => {
    const t = await scrape();
    return sample(t, 'cwm_config_revision') === 2 ? t : undefined;
  }, 5000, 'reload applied');
  assert.equal(sample(text, 'cwm_config_entries{kind="webhook"}'), 3);
  assert.equal(sample(text, 'cwm_config_invalid_total{kind="webhook"}'), 1);
  assert.ok((sample(text, 'cwm_process_resident_memory_bytes') ?? 0) > 0, 'process metrics are exported');
});

test('X-Request-Id is honoured or generated on webhook and admin routes, and logged', async () => {
  const given = await cwm.post('/webhook/m/hook1', { a: 1 }, { 'x-request-id': 'req-abc-123' });
  assert.equal(given.headers.get('x-request-id'), 'req-abc-123');
  const body = (await given.json()) as { delivery_id: string };
  // Without a sender delivery id, the X-Request-Id bound to this body is the delivery id: a retry keeps it, another body gets another.
  assert.match(body.delivery_id, /^req-abc-123\.[0-9a-f]{32}$/);
  const again = (await (await cwm.post('/webhook/m/hook1', { a: 1 }, { 'x-request-id': 'req-abc-123' })).json()) as { delivery_id: string };
  assert.equal(again.delivery_id, body.delivery_id);
  const other = (await (await cwm.post('/webhook/m/hook1', { a: 2 }, { 'x-request-id': 'req-abc-123' })).json()) as { delivery_id: string };
  assert.notEqual(other.delivery_id, body.delivery_id);
  await waitFor(() => cwm.logs.some((l) => l.msg === 'webhook received' && l.request_id === 'req-abc-123'), 3000, 'delivery line with request_id');
  await waitFor(() => cwm.logs.some((l) => l.msg === 'request' && l.request_id === 'req-abc-123' && l.status === 200), 3000, 'access line with request_id');
  // The access line carries the path only: query_auth keys travel in the query string.
  assert.equal((await cwm.post('/webhook/m/hook1?api_key=SUPERSECRET', {}, { 'x-request-id': 'req-q' })).status, 200);
  const line = await waitFor(() => cwm.logs.find((l) => l.msg === 'request' && l.request_id === 'req-q'), 3000, 'access line');
  assert.equal(line.path, '/webhook/m/hook1');
  assert.doesNotMatch(JSON.stringify(cwm.logs), /SUPERSECRET/);

  const generated = await cwm.post('/webhook/m/nope', {});
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const health = await fetch(`${cwm.baseUrl}/health`, { headers: { 'x-request-id': 'probe-1' } });
  assert.equal(health.headers.get('x-request-id'), 'probe-1');
  const metrics = await fetch(`${cwm.baseUrl}/metrics`);
  assert.match(metrics.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  // An id that is unsafe to echo (spaces, too long) is replaced, never reflected.
  const unsafe = await fetch(`${cwm.baseUrl}/ready`, { headers: { 'x-request-id': 'a b' } });
  assert.notEqual(unsafe.headers.get('x-request-id'), 'a b');
  const long = await cwm.post('/webhook/m/hook1', {}, { 'x-request-id': 'x'.repeat(500) });
  assert.match(long.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('METRICS_PER_WEBHOOK adds a webhook label for matched webhooks only', async () => {
  const perHook = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir, ETCD_NAMESPACE: 'm', METRICS_PER_WEBHOOK: 'true' });
  try {
    assert.equal((await perHook.post('/webhook/m/hook1', {})).status, 200);
    assert.equal((await perHook.post('/webhook/m/unknown', {})).status, 404);
    const text = await (await fetch(`${perHook.baseUrl}/metrics`)).text();
    assert.equal(sample(text, 'cwm_requests_total{namespace="m",status="200",webhook="hook1"}'), 1);
    assert.equal(sample(text, 'cwm_requests_total{namespace="_unmatched",status="404",webhook="_unmatched"}'), 1);
    assert.equal(sample(text, 'cwm_request_duration_seconds_count{namespace="m",webhook="hook1"}'), 1);
  } finally {
    assert.equal(await perHook.stop(), 0);
  }
});
