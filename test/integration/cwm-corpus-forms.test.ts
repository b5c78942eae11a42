/**
 * CWM config forms from its corpus, served by a running cwm: header_auth /
 * query_auth `case_sensitive`, per-webhook `trusted_proxies` (+ X-Real-IP),
 * save_to_disk `filename_template`, payload `json_schema` drafts chosen by
 * `$schema`, and connection-less outputs through DEFAULT_CONNECTIONS
 * (redis_publish with CWM's `redis` block and default channel; a chain
 * entry inheriting the webhook's top-level `queue_name`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';

const KEY = 'Secret-Key-ABC123';
const D04 = 'http://json-schema.org/draft-04/schema#';
const D06 = 'http://json-schema.org/draft-06/schema#';
const D2019 = 'https://json-schema.org/draft/2019-09/schema';
const D2020 = 'https://json-schema.org/draft/2020-12/schema';

const webhooks = {
  header_ci: { module: 'log', header_auth: { header_name: 'X-API-Key', api_key: KEY, case_sensitive: false } },
  header_cs: { module: 'log', header_auth: { header_name: 'X-API-Key', api_key: KEY } },
  query_ci: { module: 'log', query_auth: { parameter_name: 'api_key', api_key: KEY, case_sensitive: false } },
  query_cs: { module: 'log', query_auth: { parameter_name: 'api_key', api_key: KEY, case_sensitive: true } },
  proxied: { module: 'log', ip_whitelist: ['10.0.0.0/8'], trusted_proxies: ['127.0.0.1', '::1'] },
  unproxied: { module: 'log', ip_whitelist: ['10.0.0.0/8'] },
  disk: { module: 'save_to_disk', 'module-config': { path: 'events', filename_template: 'evt_{webhook_id}_{timestamp}.json', create_dirs: true } },
  disk_fixed: { module: 'save_to_disk', 'module-config': { path: 'fixed', filename_pattern: 'same.json' } },
  d04: { module: 'log', json_schema: { $schema: D04, type: 'object', properties: { n: { type: 'number', maximum: 5, exclusiveMaximum: true } } } },
  d06: { module: 'log', json_schema: { $schema: D06, type: 'object', properties: { n: { type: 'number', exclusiveMaximum: 5 } } } },
  d07: { module: 'log', json_schema: { type: 'object', if: { required: ['a'] }, then: { required: ['b'] } } },
  d2019: { module: 'log', json_schema: { $schema: D2019, type: 'object', dependentRequired: { a: ['b'] } } },
  d2020: { module: 'log', json_schema: { $schema: D2020, type: 'object', properties: { t: { type: 'array', prefixItems: [{ type: 'string' }], items: false } } } },
  pattern_a: { module: 'log', json_schema: { type: 'object', properties: { s: { type: 'string', pattern: '^a+$' } } } },
  pattern_b: { module: 'log', json_schema: { $schema: D2020, type: 'object', properties: { s: { type: 'string', pattern: '^b+$' } } } },
  pub_block: { module: 'redis_publish', redis: { host: 'redis', port: 6379, channel: 'block_events' } },
  pub_default: { module: 'redis_publish' },
  // CWM's example configs write numbers as placeholders with defaults: strings once substituted.
  recaptcha_strings: { module: 'log', recaptcha: { secret_key: 'k', version: '{$CWM_RC_VERSION:v3}', min_score: '{$CWM_RC_MIN:0.7}', token_source: 'header' } },
  http_strings: { module: 'http_webhook', 'module-config': { url: 'https://hooks.example/x', method: '{$CWM_HTTP_METHOD:POST}', timeout: '{$CWM_HTTP_TIMEOUT:30}' } },
  chain_inherit: { queue_name: 'inherited_q', chain: ['log', { module: 'redis_queue' }] },
};

let redis: RedisServer;
let dir: ConfigDir;
let diskRoot: string;
let cwm: CwmProcess;

before(async () => {
  redis = await startRedis();
  diskRoot = tempDir('cwm-forms-disk-');
  dir = configDirWith(webhooks, { redis_main: { type: 'redis', url: redis.url } });
  cwm = await startCwm({ CONFIG_DIR: dir.path, SAVE_TO_DISK_BASE_DIR: diskRoot, DEFAULT_CONNECTIONS: 'redis=redis_main' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  dir.remove();
  await redis.destroy();
});

test('every webhook of the file is served: none dropped at load', () => {
  const dropped = cwm.logs.filter((l) => String(l.msg).startsWith('invalid config entry ignored'));
  assert.deepEqual(dropped.map((l) => `${String(l.key)}: ${String(l.reason)}`), []);
});

test('numbers and enums given as strings (placeholder defaults) are served: recaptcha asks for its token', async () => {
  const res = await cwm.post('/webhook/recaptcha_strings', {});
  assert.equal(res.status, 401);
  assert.match(await res.text(), /recaptcha/i);
  assert.ok(!cwm.logs.some((l) => String(l.msg).startsWith('invalid config entry ignored') && String(l.key).includes('http_strings')));
});

test('header_auth case_sensitive: false accepts the key in any case; the default (true) only as written', async () => {
  assert.equal((await cwm.post('/webhook/header_ci', {}, { 'x-api-key': KEY.toLowerCase() })).status, 200);
  assert.equal((await cwm.post('/webhook/header_ci', {}, { 'x-api-key': KEY.toUpperCase() })).status, 200);
  assert.equal((await cwm.post('/webhook/header_ci', {}, { 'x-api-key': `${KEY}x` })).status, 401);
  assert.equal((await cwm.post('/webhook/header_ci', {})).status, 401);
  assert.equal((await cwm.post('/webhook/header_cs', {}, { 'x-api-key': KEY })).status, 200);
  assert.equal((await cwm.post('/webhook/header_cs', {}, { 'x-api-key': KEY.toLowerCase() })).status, 401);
});

test('query_auth case_sensitive: false accepts the key in any case; true only as written', async () => {
  assert.equal((await cwm.post(`/webhook/query_ci?api_key=${KEY.toLowerCase()}`, {})).status, 200);
  assert.equal((await cwm.post('/webhook/query_ci?api_key=wrong', {})).status, 401);
  assert.equal((await cwm.post(`/webhook/query_cs?api_key=${KEY}`, {})).status, 200);
  assert.equal((await cwm.post(`/webhook/query_cs?api_key=${KEY.toUpperCase()}`, {})).status, 401);
});

test("a webhook's trusted_proxies: X-Forwarded-For (right-most untrusted hop) or X-Real-IP from them names the client", async () => {
  // cwm runs without TRUSTED_PROXIES: only `proxied` trusts its peer (127.0.0.1).
  assert.equal((await cwm.post('/webhook/proxied', {}, { 'x-forwarded-for': '10.1.2.3' })).status, 200);
  assert.equal((await cwm.post('/webhook/proxied', {}, { 'x-forwarded-for': '10.1.2.3, 203.0.113.7' })).status, 403, 'a prepended allowed address does not get in');
  assert.equal((await cwm.post('/webhook/proxied', {}, { 'x-real-ip': '10.9.9.9' })).status, 200);
  assert.equal((await cwm.post('/webhook/proxied', {}, { 'x-real-ip': '203.0.113.1' })).status, 403);
  assert.equal((await cwm.post('/webhook/proxied', {}, { 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '10.9.9.9' })).status, 403, 'X-Forwarded-For wins over X-Real-IP');
  assert.equal((await cwm.post('/webhook/proxied', {})).status, 403, 'the proxy itself is not whitelisted');
  assert.equal((await cwm.post('/webhook/unproxied', {}, { 'x-forwarded-for': '10.1.2.3' })).status, 403, 'other webhooks do not trust that proxy');
  assert.equal((await cwm.post('/webhook/unproxied', {}, { 'x-real-ip': '10.1.2.3' })).status, 403);
});

test('save_to_disk filename_template: {webhook_id} and {timestamp} in the name, the body as sent', async () => {
  assert.equal((await cwm.post('/webhook/disk', { n: 1 })).status, 200);
  const files = readdirSync(join(diskRoot, 'default', 'events'));
  assert.equal(files.length, 1, files.join(','));
  assert.match(files[0] as string, /^evt_disk_\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{6}\.json$/);
  assert.deepEqual(JSON.parse(readFileSync(join(diskRoot, 'default', 'events', files[0] as string), 'utf8')), { n: 1 });
});

test('save_to_disk: a template whose name is taken never overwrites an acknowledged file', async () => {
  for (const n of [1, 2, 3]) assert.equal((await cwm.post('/webhook/disk_fixed', { n })).status, 200);
  const d = join(diskRoot, 'default', 'fixed');
  const files = readdirSync(d).sort();
  assert.equal(files.length, 3, files.join(','));
  assert.ok(files.includes('same.json'));
  for (const f of files) assert.match(f, /^same(-[0-9a-f-]{36})?\.json$/);
  const bodies = files.map((f) => (JSON.parse(readFileSync(join(d, f), 'utf8')) as { n: number }).n).sort();
  assert.deepEqual(bodies, [1, 2, 3]);
});

test('json_schema is validated under the draft its $schema names', async () => {
  const cases: [string, unknown, unknown][] = [
    ['d04', { n: 5 }, { n: 4 }],
    ['d06', { n: 5 }, { n: 4 }],
    ['d07', { a: 1 }, { a: 1, b: 2 }],
    ['d2019', { a: 1 }, { a: 1, b: 2 }],
    ['d2020', { t: ['x', 1] }, { t: ['x'] }],
  ];
  for (const [id, bad, good] of cases) {
    assert.equal((await cwm.post(`/webhook/${id}`, bad)).status, 422, `${id} refuses ${JSON.stringify(bad)}`);
    assert.equal((await cwm.post(`/webhook/${id}`, good)).status, 200, `${id} accepts ${JSON.stringify(good)}`);
  }
});

test('each json_schema pattern is its own (RE2) pattern, whatever other schemas compiled', async () => {
  assert.equal((await cwm.post('/webhook/pattern_a', { s: 'aaa' })).status, 200);
  assert.equal((await cwm.post('/webhook/pattern_a', { s: 'bbb' })).status, 422);
  assert.equal((await cwm.post('/webhook/pattern_b', { s: 'bbb' })).status, 200);
  assert.equal((await cwm.post('/webhook/pattern_b', { s: 'aaa' })).status, 422);
});

test("redis_publish without a connection publishes through DEFAULT_CONNECTIONS: the redis block's channel, else CWM's webhook_events", async () => {
  const sub = new Redis(redis.url);
  const got: [string, string][] = [];
  sub.on('message', (channel: string, m: string) => got.push([channel, m]));
  try {
    await sub.subscribe('block_events', 'webhook_events');
    assert.equal((await cwm.post('/webhook/pub_block', { via: 'block' })).status, 200);
    assert.equal((await cwm.post('/webhook/pub_default', { via: 'default' })).status, 200);
    await waitFor(() => got.length >= 2, 5000, 'both messages');
    const byChannel = new Map(got.map(([c, m]) => [c, (JSON.parse(m) as { payload: unknown }).payload]));
    assert.deepEqual(byChannel.get('block_events'), { via: 'block' });
    assert.deepEqual(byChannel.get('webhook_events'), { via: 'default' });
  } finally {
    sub.disconnect();
  }
});

test("a chain entry inherits the webhook's top-level queue_name (CWM builds entries from the webhook's config)", async () => {
  const client = new Redis(redis.url);
  try {
    assert.equal((await cwm.post('/webhook/chain_inherit', { via: 'chain' })).status, 200);
    const keys = await client.keys('bull:inherited_q:*');
    assert.ok(keys.length > 0, 'the BullMQ queue named by the top-level queue_name holds the job');
    assert.deepEqual(await client.keys('bull:default:*'), [], 'not the default queue');
  } finally {
    client.disconnect();
  }
});
