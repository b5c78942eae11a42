/**
 * Every row of DESIGN §3's status table, produced against a real cwm process
 * (file backend) and asserted with its status, JSON body and headers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { configDirWith } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest } from '../helpers/raw-http.js';

const GH_SECRET = 'status-table-gh-secret';
let cwm: CwmProcess;

before(async () => {
  const deadPort = await freePort(); // nothing listens here: a Redis that is down
  const dir = configDirWith(
    {
      open: { module: 'log' },
      small: { module: 'log', max_body_bytes: 100 },
      blob: { module: 'log', data_type: 'blob' },
      bearer: { module: 'log', authorization: 'Bearer {$CWM_SECRET_TOKEN}' },
      signed: { module: 'log', signature: { scheme: 'github', secret: '{$CWM_SECRET_GH}' } },
      slack: { module: 'log', signature: { scheme: 'slack', secret: 'slack-secret' } },
      private: { module: 'log', ip_whitelist: ['10.0.0.0/8', 'fd00::/8'] },
      schema: { module: 'log', json_schema: { type: 'object', required: ['order_id'], properties: { order_id: { type: 'integer' } } } },
      limited: { module: 'log', rate_limit: { max_requests: 2, window_seconds: 60 } },
      store_down: { module: 'log', dedupe: { connection: 'redis_down' } },
      queue_missing: { module: 'redis_queue', connection: 'no_such_connection', 'module-config': { queue_name: 'q' } },
    },
    { redis_down: { type: 'redis', url: `redis://127.0.0.1:${deadPort}` } },
  );
  cwm = await startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'tbl', CWM_SECRET_TOKEN: 'tok-123', CWM_SECRET_GH: GH_SECRET, OUTPUT_TIMEOUT_MS: '1000' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
});

async function expectError(res: Response, status: number): Promise<{ status: string; error: string; details?: string[] }> {
  const body = (await res.json()) as { status: string; error: string; details?: string[] };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(body.status, 'error');
  assert.equal(typeof body.error, 'string');
  assert.ok(!/\n\s+at /.test(JSON.stringify(body)), 'no stack trace');
  return body;
}

test('200: accepted with a delivery id (namespaced and default-namespace routes)', async () => {
  for (const path of ['/webhook/open', '/webhook/tbl/open']) {
    const res = await cwm.post(path, { a: 1 }, { 'x-github-delivery': 'd-200' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'accepted', delivery_id: 'd-200' });
  }
});

test('400: bad namespace/id format', async () => {
  for (const path of ['/webhook/bad.name', '/webhook/tbl/has%20space', `/webhook/tbl/${'x'.repeat(65)}`, '/webhook/', '/webhook/tbl/caf%C3%A9']) {
    await expectError(await cwm.post(path, {}), 400);
  }
});

test('404: unknown namespace or id, same answer for both', async () => {
  const a = await expectError(await cwm.post('/webhook/tbl/nope', {}), 404);
  const b = await expectError(await cwm.post('/webhook/nope_ns/open', {}), 404);
  assert.deepEqual(a, b);
});

test('405: method other than POST, with Allow', async () => {
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
    const res = await fetch(`${cwm.baseUrl}/webhook/open`, { method });
    await expectError(res, 405);
    assert.equal(res.headers.get('allow'), 'POST');
  }
});

test('413: Content-Length over the limit before reading, and a chunked body cut off while streaming', async () => {
  await expectError(await cwm.post('/webhook/small', { pad: 'x'.repeat(200) }), 413);
  // No Content-Length: the body arrives chunked and is cut off once past the limit.
  const chunked = await rawRequest(cwm.port, `POST /webhook/small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n${'{'.padEnd(64, ' ')}\r\n40\r\n${' '.repeat(64)}\r\n0\r\n\r\n`);
  assert.equal(chunked.status, 413);
  assert.equal((JSON.parse(chunked.body) as { status: string }).status, 'error');
  assert.equal((await cwm.post('/webhook/small', { pad: 'x'.repeat(50) })).status, 200, 'under the limit passes');
});

test('415 wrong content type for a json webhook; no type means JSON; blob webhooks take any type', async () => {
  await expectError(await cwm.post('/webhook/open', '{}', { 'content-type': 'text/plain' }), 415);
  assert.equal((await fetch(`${cwm.baseUrl}/webhook/open`, { method: 'POST', body: '{}', headers: { 'content-type': '' } })).status, 200);
  assert.equal((await cwm.post('/webhook/blob', 'raw bytes', { 'content-type': 'application/octet-stream' })).status, 200);
  assert.equal((await cwm.post('/webhook/open', '{}', { 'content-type': 'application/vnd.api+json; charset=utf-8' })).status, 200);
});

test('400: malformed JSON, invalid UTF-8 and over-deep JSON', async () => {
  await expectError(await cwm.post('/webhook/open', '{"a":'), 400);
  await expectError(await fetch(`${cwm.baseUrl}/webhook/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]) }), 400);
  await expectError(await cwm.post('/webhook/open', '['.repeat(100) + ']'.repeat(100)), 400);
});

test('401: missing or wrong credentials, wrong signature, stale timestamp', async () => {
  await expectError(await cwm.post('/webhook/bearer', {}), 401);
  await expectError(await cwm.post('/webhook/bearer', {}, { authorization: 'Bearer wrong' }), 401);
  assert.equal((await cwm.post('/webhook/bearer', {}, { authorization: 'Bearer tok-123' })).status, 200);

  const body = JSON.stringify({ zen: 'Keep it logically awesome.' });
  const sig = `sha256=${createHmac('sha256', GH_SECRET).update(body).digest('hex')}`;
  await expectError(await cwm.post('/webhook/signed', body), 401);
  await expectError(await cwm.post('/webhook/signed', body.replace('awesome', 'awful'), { 'x-hub-signature-256': sig }), 401);
  assert.equal((await cwm.post('/webhook/signed', body, { 'x-hub-signature-256': sig })).status, 200);

  const ts = String(Math.floor(Date.now() / 1000) - 3600);
  const slackSig = `v0=${createHmac('sha256', 'slack-secret').update(`v0:${ts}:${body}`).digest('hex')}`;
  const stale = await expectError(await cwm.post('/webhook/slack', body, { 'x-slack-signature': slackSig, 'x-slack-request-timestamp': ts }), 401);
  assert.match(stale.error, /too old/);
});

test('403: client address not allowed', async () => {
  await expectError(await cwm.post('/webhook/private', {}), 403);
  // Not a trusted proxy here: a forged X-Forwarded-For changes nothing.
  await expectError(await cwm.post('/webhook/private', {}, { 'x-forwarded-for': '10.1.2.3' }), 403);
});

test('422: schema failed, JSON pointers, no payload echo', async () => {
  const body = await expectError(await cwm.post('/webhook/schema', { order_id: 'sk_live_do_not_echo_me' }), 422);
  assert.deepEqual(body.details, ['/order_id fails type']);
  assert.ok(!JSON.stringify(body).includes('sk_live_do_not_echo_me'));
  assert.deepEqual((await expectError(await cwm.post('/webhook/schema', {}), 422)).details, ['/ fails required']);
  assert.equal((await cwm.post('/webhook/schema', { order_id: 7 })).status, 200);
});

test('429: rate limited per namespace+id, with Retry-After', async () => {
  assert.equal((await cwm.post('/webhook/limited', {})).status, 200);
  assert.equal((await cwm.post('/webhook/tbl/limited', {})).status, 200);
  const res = await cwm.post('/webhook/limited', {});
  await expectError(res, 429);
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, String(retry));
  assert.equal((await cwm.post('/webhook/open', {})).status, 200, 'other webhooks are not affected');
});

test('503 with Retry-After: a Redis dependency of the webhook is down', async () => {
  const res = await cwm.post('/webhook/store_down', {}, { 'x-github-delivery': 'd-503' });
  await expectError(res, 503);
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
});

test('503 with Retry-After: an output whose connection is not configured', async () => {
  const res = await cwm.post('/webhook/queue_missing', {});
  await expectError(res, 503);
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
});

test('the process is healthy after all of the above', async () => {
  const res = await fetch(`${cwm.baseUrl}/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'healthy');
});
