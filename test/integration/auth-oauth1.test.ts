/**
 * oauth1 through two running cwm processes sharing a test-owned Redis for
 * nonces: a request replayed to the other instance is refused, and a Redis
 * that is down answers 503. Headers are signed by python (independent of
 * the code under test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeConfigDir } from '../helpers/config-dir.js';
import { startCwm } from '../helpers/cwm-process.js';
import { pyOAuth1 } from '../helpers/py-vectors.js';
import { startRedis } from '../helpers/redis.js';

test('oauth1 nonces are shared by instances through Redis; valid, wrong, stale, missing, store down', async (t) => {
  const redis = await startRedis();
  const dir = makeConfigDir();
  dir.write('webhooks.json', {
    o1: { module: 'log', oauth1: { consumer_key: 'ck', consumer_secret: 'cs', public_base_url: 'https://hooks.example', nonce_connection: 'nonces' } },
  });
  dir.write('connections.json', { nonces: { type: 'redis', url: redis.url } });
  const a = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path });
  const b = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path });
  t.after(async () => {
    await a.stop();
    await b.stop();
    await redis.destroy();
    dir.remove();
  });
  const now = Math.floor(Date.now() / 1000);
  const sign = (nonce: string, over: { consumerSecret?: string; timestamp?: number } = {}) =>
    pyOAuth1({ method: 'POST', url: 'https://hooks.example/webhook/o1', consumerKey: 'ck', consumerSecret: over.consumerSecret ?? 'cs', signatureMethod: 'HMAC-SHA1', timestamp: over.timestamp ?? now, nonce });
  const first = sign('nonce-1');
  assert.equal((await a.post('/webhook/o1', { x: 1 }, { authorization: first })).status, 200);
  assert.equal((await b.post('/webhook/o1', { x: 1 }, { authorization: first })).status, 401, 'replayed to the other instance');
  assert.equal((await b.post('/webhook/o1', { x: 1 }, { authorization: sign('nonce-2') })).status, 200);
  assert.equal((await a.post('/webhook/o1', { x: 1 }, { authorization: sign('nonce-3', { consumerSecret: 'wrong' }) })).status, 401, 'wrong secret');
  assert.equal((await a.post('/webhook/o1', { x: 1 }, { authorization: sign('nonce-4', { timestamp: now - 3600 }) })).status, 401, 'stale timestamp');
  assert.equal((await a.post('/webhook/o1', { x: 1 })).status, 401, 'missing');
  await redis.kill();
  assert.equal((await a.post('/webhook/o1', { x: 1 }, { authorization: sign('nonce-5') })).status, 503, 'nonce store down');
});
