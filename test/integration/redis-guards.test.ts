/**
 * Redis-backed rate limit and dedupe with two real cwm processes on one real
 * Redis: all instances share one budget and one memory of delivery ids; with
 * Redis gone, both answer 503 + Retry-After and recover when it is back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { configDirWith } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let a: CwmProcess;
let b: CwmProcess;
const STRIPE_SECRET = 'whsec_guard_test';

before(async () => {
  redis = await startRedis();
  const dir = configDirWith(
    {
      dd: { module: 'log', dedupe: { connection: 'guards', ttl_seconds: 60 } },
      dd_custom: { module: 'log', dedupe: { connection: 'guards', header: 'X-Event-Id' } },
      stripe_dd: { module: 'log', signature: { scheme: 'stripe', secret: STRIPE_SECRET }, dedupe: { connection: 'guards' } },
      shared: { module: 'log', rate_limit: { max_requests: 3, window_seconds: 60, connection: 'guards' } },
      shared_twin: { module: 'log', rate_limit: { max_requests: 3, window_seconds: 60, connection: 'guards' } },
    },
    { guards: { type: 'redis', url: redis.url } },
  );
  [a, b] = await Promise.all([startCwm({ CONFIG_DIR: dir.path }), startCwm({ CONFIG_DIR: dir.path })]);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.destroy();
});

const deliveredIds = (cwm: CwmProcess, id: string) => cwm.logs.filter((l) => l.msg === 'webhook received' && l.delivery_id === id).length;

test('a delivery id seen again is answered 200 duplicate and not delivered again, across instances', async () => {
  const first = await a.post('/webhook/dd', { n: 1 }, { 'x-github-delivery': 'gh-dup-1' });
  assert.deepEqual(await first.json(), { status: 'accepted', delivery_id: 'gh-dup-1' });
  for (const cwm of [a, b]) {
    const again = await cwm.post('/webhook/dd', { n: 1 }, { 'x-github-delivery': 'gh-dup-1' });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { status: 'accepted', delivery_id: 'gh-dup-1', duplicate: true });
  }
  await waitFor(() => deliveredIds(a, 'gh-dup-1') > 0, 5000, 'first delivery logged');
  assert.equal(deliveredIds(a, 'gh-dup-1') + deliveredIds(b, 'gh-dup-1'), 1);
  // Another webhook with the same id is another delivery; so is a new id.
  assert.equal(((await (await b.post('/webhook/dd_custom', {}, { 'x-event-id': 'gh-dup-1' })).json()) as { duplicate?: boolean }).duplicate, undefined);
  assert.equal(((await (await b.post('/webhook/dd', {}, { 'x-github-delivery': 'gh-dup-2' })).json()) as { duplicate?: boolean }).duplicate, undefined);
  // Without any sender id there is nothing to deduplicate on: every request is delivered.
  for (let i = 0; i < 2; i++) assert.equal(((await (await a.post('/webhook/dd', {})).json()) as { duplicate?: boolean }).duplicate, undefined);
});

test('the configured dedupe header and Stripe\'s body id are used as delivery ids', async () => {
  await a.post('/webhook/dd_custom', {}, { 'x-event-id': 'ev-7' });
  assert.equal(((await (await b.post('/webhook/dd_custom', {}, { 'x-event-id': 'ev-7' })).json()) as { duplicate?: boolean }).duplicate, true);

  const body = JSON.stringify({ id: 'evt_1NvZ', object: 'event', type: 'charge.succeeded' });
  const sign = () => {
    const t = Math.floor(Date.now() / 1000);
    return { 'stripe-signature': `t=${t},v1=${createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex')}`, 'x-request-id': `proxy-${Math.random()}` };
  };
  const first = (await (await a.post('/webhook/stripe_dd', body, sign())).json()) as { delivery_id: string; duplicate?: boolean };
  assert.equal(first.delivery_id, 'evt_1NvZ');
  assert.equal(first.duplicate, undefined);
  const retry = (await (await b.post('/webhook/stripe_dd', body, sign())).json()) as { delivery_id: string; duplicate?: boolean };
  assert.deepEqual(retry, { status: 'accepted', delivery_id: 'evt_1NvZ', duplicate: true });
});

test('the Redis rate limit is one budget for all instances, per namespace+id', async () => {
  const statuses: number[] = [];
  for (const cwm of [a, b, a, b, a]) statuses.push((await cwm.post('/webhook/shared', {})).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const limited = await b.post('/webhook/shared', {});
  assert.equal(limited.status, 429);
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
  assert.equal((await a.post('/webhook/shared_twin', {})).status, 200, 'another webhook has its own budget');
});

test('Redis down: 503 + Retry-After for webhooks that need it, 200 again once it is back', async () => {
  await redis.kill('SIGTERM');
  for (const path of ['/webhook/dd', '/webhook/shared_twin']) {
    const res = await a.post(path, {}, { 'x-github-delivery': `down-${path}` });
    assert.equal(res.status, 503, path);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
  }
  await redis.restart();
  await waitFor(async () => (await a.post('/webhook/dd', {}, { 'x-github-delivery': 'back-1' })).status === 200, 15_000, 'dedupe webhook recovers');
  // The 503 released nothing it had not claimed: the id refused while Redis was down is delivered now.
  assert.equal((await (await a.post('/webhook/dd', {}, { 'x-github-delivery': 'down-/webhook/dd' })).json() as { duplicate?: boolean }).duplicate, undefined);
});

