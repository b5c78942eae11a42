/**
 * DEFAULT_WEBHOOK_FALLBACK (CWM's catch-all): off, an unknown id is 404; on,
 * it is handled by the webhook `default` of the same namespace, with that
 * webhook's checks, and only there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

let dir: ConfigDir;
let on: CwmProcess;
let off: CwmProcess;

before(async () => {
  dir = configDirWith({ default: { module: 'log', authorization: 'Bearer catch-all' }, known: { module: 'log' } });
  [on, off] = await Promise.all([
    startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'team', DEFAULT_WEBHOOK_FALLBACK: 'true' }),
    startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'team' }),
  ]);
});

after(async () => {
  assert.equal(await on.stop(), 0);
  assert.equal(await off.stop(), 0);
  dir.remove();
});

const AUTH = { authorization: 'Bearer catch-all' };

test('off (the default): an unknown id is 404 even with a `default` webhook configured', async () => {
  const res = await off.post('/webhook/unknown', { a: 1 }, AUTH);
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { status: 'error', error: 'webhook not found' });
  assert.equal((await off.post('/webhook/default', { a: 1 }, AUTH)).status, 200, 'the default webhook itself is an ordinary webhook');
});

test('on: an unknown id is handled by `default`, by both routes; known ids stay their own', async () => {
  const res = await on.post('/webhook/unknown', { a: 1 }, AUTH);
  assert.equal(res.status, 200);
  const { delivery_id } = (await res.json()) as { delivery_id: string };
  const line = await waitFor(() => on.logs.find((l) => l.msg === 'webhook received' && l.delivery_id === delivery_id), 5000, 'default webhook delivered');
  assert.equal(line.webhook_id, 'default');
  assert.deepEqual(line.payload, { a: 1 });
  assert.equal((await on.post('/webhook/team/also-unknown', {}, AUTH)).status, 200);
  // `known` has no authorization of its own: it is not routed to `default`.
  assert.equal((await on.post('/webhook/known', {})).status, 200);
});

test("on: the `default` webhook's checks apply to what falls back to it", async () => {
  assert.equal((await on.post('/webhook/unknown', {})).status, 401);
  assert.equal((await on.post('/webhook/unknown', {}, { authorization: 'Bearer wrong' })).status, 401);
});

test('on: another namespace (without a `default`) is still 404, and bad ids are still 400', async () => {
  assert.equal((await on.post('/webhook/other/unknown', {}, AUTH)).status, 404);
  assert.equal((await on.post('/webhook/bad.id', {}, AUTH)).status, 400);
});
