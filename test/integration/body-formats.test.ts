/**
 * What a json webhook takes as its body, against a real cwm: JSON with or
 * without a Content-Type (CWM's docs send it without), form-urlencoded bodies
 * parsed into an object (also through the durable spool), and a declared type
 * that is neither JSON nor a form still answered 415.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let dir: ConfigDir;
let cwm: CwmProcess;
let redis: RedisServer;
const FORM = 'Content-Type: application/x-www-form-urlencoded';

before(async () => {
  redis = await startRedis();
  dir = configDirWith(
    {
      open: { module: 'log' },
      small: { module: 'log', max_body_bytes: 100 },
      schema: { module: 'log', json_schema: { type: 'object', required: ['order_id'], properties: { order_id: { type: 'integer' } } } },
      command: { module: 'log', json_schema: { type: 'object', required: ['command'], properties: { command: { type: 'string', pattern: '^/' } } } },
      slack: { module: 'log', signature: { scheme: 'slack', secret: 'form-slack-secret' } },
      spooled: { module: 'log', retry: { enabled: true, max_attempts: 3, initial_delay: 0.1, max_delay: 0.1 } },
    },
    { spool: { type: 'redis', url: redis.url } },
  );
  cwm = await startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'fmt', SPOOL_CONNECTION: 'spool' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await redis.destroy();
  dir.remove();
});

/** A POST with exactly these header lines (no Content-Type unless given). */
function post(path: string, body: string, headerLines: string[] = []): ReturnType<typeof rawRequest> {
  const head = [`POST ${path} HTTP/1.1`, 'Host: x', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...headerLines].join('\r\n');
  return rawRequest(cwm.port, `${head}\r\n\r\n${body}`);
}

/** The payload the log output wrote for this delivery. */
async function loggedPayload(deliveryId: string): Promise<unknown> {
  const line = await waitFor(() => cwm.logs.find((l) => l.msg === 'webhook received' && l.delivery_id === deliveryId), 5000, `log line of ${deliveryId}`);
  return line.payload;
}

test('JSON without a Content-Type is accepted and parsed, as CWM (which ignored the type)', async () => {
  const res = await post('/webhook/open', '{"event":"push","n":1}');
  assert.equal(res.status, 200, res.body);
  const { delivery_id } = JSON.parse(res.body) as { delivery_id: string };
  assert.deepEqual(await loggedPayload(delivery_id), { event: 'push', n: 1 });
  // An empty header is no declaration either.
  assert.equal((await post('/webhook/open', '{}', ['Content-Type: '])).status, 200);
});

test('without a Content-Type the body must still be JSON, and json_schema still applies', async () => {
  const bad = await post('/webhook/open', 'event=push');
  assert.equal(bad.status, 400);
  assert.equal((JSON.parse(bad.body) as { error: string }).error, 'body is not valid JSON');
  assert.equal((await post('/webhook/schema', '{"order_id":"x"}')).status, 422);
  assert.equal((await post('/webhook/schema', '{"order_id":7}')).status, 200);
});

test('a declared type that is not JSON still gets 415', async () => {
  for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx']) {
    const res = await post('/webhook/open', '{}', [`Content-Type: ${type}`]);
    assert.equal(res.status, 415, type);
    assert.equal((JSON.parse(res.body) as { status: string }).status, 'error');
  }
  assert.equal((await post('/webhook/open', '{}', ['Content-Type: application/json; charset=utf-8'])).status, 200);
});

test('a form body on a json webhook is parsed into an object: repeated keys become arrays, __proto__ is an ordinary key', async () => {
  const res = await post('/webhook/open', 'text=hello+world%21&user_id=U1&a=1&a=2&a=3&__proto__=p&constructor=c&empty=', [FORM]);
  assert.equal(res.status, 200, res.body);
  const { delivery_id } = JSON.parse(res.body) as { delivery_id: string };
  const payload = (await loggedPayload(delivery_id)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(payload), ['text', 'user_id', 'a', '__proto__', 'constructor', 'empty']);
  assert.equal(payload.text, 'hello world!');
  assert.deepEqual(payload.a, ['1', '2', '3']);
  assert.equal(payload.__proto__, 'p');
  assert.equal(payload.constructor, 'c');
  assert.equal(payload.empty, '');
  // GitHub's form content type: the JSON document arrives as the string field `payload`.
  const gh = await post('/webhook/open', `payload=${encodeURIComponent('{"zen":"Keep it simple."}')}`, [`${FORM}; charset=utf-8`]);
  assert.equal(gh.status, 200, gh.body);
  assert.deepEqual(await loggedPayload((JSON.parse(gh.body) as { delivery_id: string }).delivery_id), { payload: '{"zen":"Keep it simple."}' });
});

test('json_schema judges the parsed form object', async () => {
  assert.equal((await post('/webhook/command', 'command=%2Fdeploy&text=prod', [FORM])).status, 200);
  const missing = await post('/webhook/command', 'text=prod', [FORM]);
  assert.equal(missing.status, 422);
  assert.match((JSON.parse(missing.body) as { details: string[] }).details.join(), /required/);
  assert.equal((await post('/webhook/command', 'command=deploy', [FORM])).status, 422);
  // Form values are strings: an integer-typed field fails, as it would for a JSON string.
  assert.equal((await post('/webhook/schema', 'order_id=7', [FORM])).status, 422);
});

test('a Slack signature is verified over the raw form body', async () => {
  const body = 'command=%2Fweather&text=94070&user_id=U2147483697';
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = `v0=${createHmac('sha256', 'form-slack-secret').update(`v0:${ts}:${body}`).digest('hex')}`;
  const ok = await post('/webhook/slack', body, [FORM, `X-Slack-Signature: ${sig}`, `X-Slack-Request-Timestamp: ${ts}`]);
  assert.equal(ok.status, 200, ok.body);
  const payload = await loggedPayload((JSON.parse(ok.body) as { delivery_id: string }).delivery_id);
  assert.deepEqual(payload, { command: '/weather', text: '94070', user_id: 'U2147483697' });
  // The same fields in another order parse to the same object but are not the signed bytes.
  const reordered = await post('/webhook/slack', 'text=94070&command=%2Fweather&user_id=U2147483697', [FORM, `X-Slack-Signature: ${sig}`, `X-Slack-Request-Timestamp: ${ts}`]);
  assert.equal(reordered.status, 401);
});

test('bad form bodies: invalid UTF-8 (raw or percent-encoded) is 400, over the byte limit is 413', async () => {
  const escaped = await post('/webhook/open', 'name=%C3%28', [FORM]);
  assert.equal(escaped.status, 400);
  assert.equal((JSON.parse(escaped.body) as { error: string }).error, 'a form field is not valid UTF-8 once percent-decoded');
  const raw = await rawRequest(cwm.port, Buffer.concat([Buffer.from(`POST /webhook/open HTTP/1.1\r\nHost: x\r\n${FORM}\r\nContent-Length: 7\r\nConnection: close\r\n\r\nname=`), Buffer.from([0xc3, 0x28])]));
  assert.equal(raw.status, 400);
  assert.equal((JSON.parse(raw.body) as { error: string }).error, 'body is not valid UTF-8');
  // U+FFFD the sender really sent (encoded or literal) is kept.
  const meant = await post('/webhook/open', 'name=%EF%BF%BD', [FORM]);
  assert.equal(meant.status, 200);
  assert.deepEqual(await loggedPayload((JSON.parse(meant.body) as { delivery_id: string }).delivery_id), { name: '\uFFFD' });
  assert.equal((await post('/webhook/small', `pad=${'x'.repeat(200)}`, [FORM])).status, 413);
  assert.equal((await post('/webhook/small', `pad=${'x'.repeat(50)}`, [FORM])).status, 200);
});

test('a spooled form body is delivered as the same parsed object', async () => {
  const res = await fetch(`${cwm.baseUrl}/webhook/spooled`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&a=2&b=x' });
  const { delivery_id } = (await res.json()) as { delivery_id: string };
  assert.equal(res.status, 202);
  assert.deepEqual(await loggedPayload(delivery_id), { a: ['1', '2'], b: 'x' });
});
