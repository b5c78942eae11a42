/**
 * http_webhook against a real HTTP server owned by the test: what arrives
 * (method, body bytes, headers minus credentials), non-2xx and slow targets
 * answered 503, the target stopped mid-traffic and restarted (no delivery
 * answered 2xx is missing at the target), a CWM-format config from CWM's
 * docs, and the outbound guard (loopback literal refused without the setting,
 * a name resolving to 127.0.0.1 refused at connect time).
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { startHttpTarget, type HttpTarget } from '../helpers/http-target.js';
import { waitFor } from '../helpers/ports.js';
import { startTraffic, type Outcome } from '../helpers/traffic.js';

const OUTPUT_TIMEOUT_MS = 1000;
let target: HttpTarget;
let dir: ConfigDir;
let cwm: CwmProcess;

const ids = (): Set<string> => new Set(target.received.filter((r) => r.path === '/ft').map((r) => (JSON.parse(r.body.toString()) as { id: string }).id));

before(async () => {
  target = await startHttpTarget();
  const base = `http://127.0.0.1:${target.port}`;
  target.respond('/fail', 500);
  target.respond('/slow', 200, 3000);
  dir = configDirWith({
    h: { module: 'http_webhook', authorization: 'Bearer team-secret', 'module-config': { url: `${base}/in?x=1`, method: 'PUT', forward_headers: true, headers: { 'X-Custom': 'v1' } } },
    picky: { module: 'http_webhook', 'module-config': { url: `${base}/picky`, forward_headers: true, allowed_headers: ['X-Keep'] } },
    fail: { module: 'http_webhook', 'module-config': { url: `${base}/fail` } },
    ft: { module: 'http_webhook', 'module-config': { url: `${base}/ft` } },
    slow: { module: 'http_webhook', 'module-config': { url: `${base}/slow`, timeout: 0.5 } },
    // CWM's docs (docs/ and config/development/webhooks.json), with the target made local.
    cwm_doc: { data_type: 'json', module: 'http_webhook', 'module-config': { url: `${base}/webhooks`, method: 'POST', forward_headers: true, headers: { 'X-Custom-Header': 'value' }, timeout: 30 }, authorization: 'Bearer fwd-secret' },
    // CWM's agent docs name the added headers custom_headers (its module reads `headers`).
    cwm_custom: { module: 'http_webhook', 'module-config': { url: `${base}/custom`, custom_headers: { 'X-Source': 'webhook-processor' } } },
    private_ip: { module: 'http_webhook', 'module-config': { url: 'http://10.1.2.3/x' } },
    metadata: { module: 'http_webhook', 'module-config': { url: 'http://169.254.169.254/latest/meta-data' } },
    unlisted: { module: 'http_webhook', 'module-config': { url: `${base}/x`, allowed_hosts: ['api.example.com'] } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), ALLOW_LOCALHOST_FOR_TESTS: 'true' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await target.stop();
  dir.remove();
});

test('a delivery arrives with the method, the body bytes, configured and forwarded headers, never the credentials', async () => {
  const body = '{"id":"d-1","nested":{"a":[1,2]}}';
  const res = await cwm.post('/webhook/h', body, { authorization: 'Bearer team-secret', 'x-github-delivery': 'gh-1', cookie: 'c=1', 'x-custom': 'from-sender' });
  assert.equal(res.status, 200, await res.text());
  const got = target.received.find((r) => r.path === '/in?x=1');
  assert.ok(got, 'the target got the request');
  assert.equal(got.method, 'PUT');
  assert.equal(got.body.toString(), body);
  assert.equal(got.headers['content-type'], 'application/json');
  assert.equal(got.headers['x-custom'], 'v1', 'configured headers override forwarded ones');
  assert.equal(got.headers['x-github-delivery'], 'gh-1', 'forwarded');
  assert.equal(got.headers.authorization, undefined, 'the webhook credential is not forwarded');
  assert.equal(got.headers.cookie, undefined, 'secret headers are not forwarded');
});

test('allowed_headers keeps only the listed headers', async () => {
  const res = await cwm.post('/webhook/picky', { id: 'p-1' }, { 'x-keep': 'yes', 'x-drop': 'no' });
  assert.equal(res.status, 200);
  const got = target.received.find((r) => r.path === '/picky');
  assert.equal(got?.headers['x-keep'], 'yes');
  assert.equal(got?.headers['x-drop'], undefined);
});

test('a target answering 500 or too slowly → 503 with Retry-After', async () => {
  const failed = await cwm.post('/webhook/fail', { id: 'f-1' });
  assert.equal(failed.status, 503);
  assert.ok(failed.headers.get('retry-after'));
  const started = Date.now();
  const slow = await cwm.post('/webhook/slow', { id: 's-1' });
  assert.equal(slow.status, 503);
  assert.ok(slow.headers.get('retry-after'));
  assert.ok(Date.now() - started < 2900, 'answered before the target would have');
});

test("CWM's documented http_webhook config delivers end to end", async () => {
  const res = await cwm.post('/webhook/cwm_doc', { id: 'doc-1', event: 'push' }, { authorization: 'Bearer fwd-secret' });
  assert.equal(res.status, 200);
  const got = target.received.find((r) => r.path === '/webhooks');
  assert.equal(got?.headers['x-custom-header'], 'value');
  assert.equal(got?.headers.authorization, undefined);
  assert.deepEqual(JSON.parse(got?.body.toString() ?? '{}'), { id: 'doc-1', event: 'push' });
});

test("custom_headers from CWM's agent docs are sent as headers", async () => {
  const res = await cwm.post('/webhook/cwm_custom', { id: 'custom-1' });
  assert.equal(res.status, 200, await res.text());
  const got = target.received.find((r) => r.path === '/custom');
  assert.equal(got?.headers['x-source'], 'webhook-processor');
});

test('private, metadata and unlisted targets are refused at config time, with a pointer', async () => {
  const reasons = (): string[] => cwm.logs.filter((l) => String(l.msg).startsWith('invalid config entry ignored')).map((l) => `${String(l.key)} ${String(l.reason)}`);
  await waitFor(() => reasons().length >= 3, 5000, 'three refusals logged');
  const all = reasons().join('\n');
  assert.match(all, /private_ip.*\/module-config\/url host 10\.1\.2\.3 is a private address/);
  assert.match(all, /metadata.*\/module-config\/url host 169\.254\.169\.254 is a metadata address/);
  assert.match(all, /unlisted.*\/module-config\/url names a host that is not in module-config.allowed_hosts/);
  for (const id of ['private_ip', 'metadata', 'unlisted']) assert.equal((await cwm.post(`/webhook/${id}`, {})).status, 404);
});

test('target stopped mid-traffic and restarted: 503 meanwhile, 200 after, nothing answered 200 is missing at the target', async (t: TestContext) => {
  const ok = (o: readonly Outcome[], since = 0): Outcome[] => o.filter((x) => x.status === 200 && x.at >= since);
  const traffic = startTraffic((id) => cwm.post('/webhook/ft', { id }, { 'x-github-delivery': id }), { concurrency: 4, prefix: 'hf' });
  try {
    await waitFor(() => ok(traffic.outcomes).length >= 100, 15_000, '100 acknowledged');
    await target.stop();
    const downAt = Date.now();
    await waitFor(() => traffic.outcomes.filter((o) => o.status === 503 && o.at >= downAt).length >= 30, 15_000, '503s while the target is down');
    await target.start();
    const upAt = Date.now();
    await waitFor(() => ok(traffic.outcomes, upAt).length >= 100, 15_000, '200s once the target is back');
  } finally {
    await traffic.stop();
  }
  const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'only 200 and 503');
  const slow503 = traffic.outcomes.filter((o) => o.status === 503 && o.ms > OUTPUT_TIMEOUT_MS + 1500);
  assert.deepEqual(slow503.map((o) => o.id), [], '503 within OUTPUT_TIMEOUT_MS');
  const seen = ids();
  const acked = ok(traffic.outcomes);
  const lost = acked.filter((o) => !seen.has(o.id));
  assert.deepEqual(lost.map((o) => o.id), [], 'acknowledged then missing at the target');
  t.diagnostic(`http_webhook target restart: sent=${traffic.outcomes.length} 2xx=${acked.length} 503=${traffic.outcomes.filter((o) => o.status === 503).length} lost=${lost.length}`);
});

test('outbound guard without ALLOW_LOCALHOST_FOR_TESTS: a loopback literal is refused at config time, a name resolving to 127.0.0.1 at connect time', async () => {
  const guardedDir = configDirWith({
    literal: { module: 'http_webhook', 'module-config': { url: `http://127.0.0.1:${target.port}/guard` } },
    octal: { module: 'http_webhook', 'module-config': { url: `http://0177.0.0.1:${target.port}/guard` } },
    byname: { module: 'http_webhook', 'module-config': { url: `http://localhost:${target.port}/guard` } },
  });
  const strict = await startCwm({ CONFIG_DIR: guardedDir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS) });
  try {
    const refusals = (): string[] => strict.logs.filter((l) => String(l.msg).startsWith('invalid config entry ignored')).map((l) => `${String(l.key)} ${String(l.reason)}`);
    await waitFor(() => refusals().length >= 2, 5000, 'two refusals');
    assert.match(refusals().join('\n'), /literal.*host 127\.0\.0\.1 is a loopback address/);
    assert.match(refusals().join('\n'), /octal.*host 127\.0\.0\.1 is a loopback address/);
    assert.equal((await strict.post('/webhook/literal', { id: 'g-1' })).status, 404);
    const byName = await strict.post('/webhook/byname', { id: 'g-2' });
    assert.equal(byName.status, 503, 'localhost resolves to a loopback address: refused when connecting');
    // Counted by path: an earlier test's slow answer may still be recorded meanwhile.
    assert.equal(target.received.filter((r) => r.path === '/guard').length, 0, 'nothing reached the target');
    const failure = await waitFor(() => strict.logs.find((l) => l.webhook_id === 'byname' && String(l.msg).includes('answered 503')), 5000, 'the 503 logged');
    assert.match(String(failure?.reason) + String(failure?.cause), /outbound guard|loopback/);
  } finally {
    await strict.stop();
    guardedDir.remove();
  }
});
