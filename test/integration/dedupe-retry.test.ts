/**
 * Dedupe marks an id only once delivery succeeded: a 503 (output failed) and
 * the sender's retry with the same id is delivered, not swallowed; a retry
 * arriving while the first attempt is still delivering is told to retry.
 * Real Redis and a real HTTP server; the output is a test output that fails
 * or stalls on demand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { CompiledWebhook } from '../../src/config/compile.js';
import { LiveConnections } from '../../src/connections/live.js';
import { compileValid } from '../helpers/compile.js';
import type { Delivery } from '../../src/delivery/types.js';
import { createWebhookHandler } from '../../src/http/webhook-handler.js';
import { Metrics } from '../../src/observability/metrics.js';
import { peerAddress } from '../../src/auth/client-ip.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const logger = pino({ level: 'silent' });
let redis: RedisServer;
let connections: LiveConnections;
let server: Server;
let base: string;
const delivered: string[] = [];
let mode: 'fail' | 'ok' | 'stall' = 'ok';
let releaseStall: () => void = () => undefined;
let onStall: () => void = () => undefined;

before(async () => {
  redis = await startRedis();
  connections = new LiveConnections(logger);
  connections.apply('dd', { type: 'redis', url: redis.url });
  const compiled = compileValid('ns', 'hook', { module: 'log', dedupe: { connection: 'dd', ttl_seconds: 60 } }, { logger, connections, maxBodyBytes: 1 << 20 });
  const flaky = {
    async send(d: Delivery): Promise<void> {
      if (mode === 'fail') throw new Error('broker down');
      if (mode === 'stall') {
        const released = new Promise<void>((resolve) => (releaseStall = resolve));
        onStall();
        await released;
      }
      delivered.push(d.id);
    },
    async close(): Promise<void> {},
  };
  // close() lives on the compiled webhook's prototype, which a spread does not copy.
  const hook: CompiledWebhook = { ...compiled, outputs: [{ module: 'flaky', output: flaky }], close: () => compiled.close() };
  const handler = createWebhookHandler({
    config: { lookup: (ns, id) => (ns === 'ns' && id === 'hook' ? hook : undefined), ready: true },
    defaultNamespace: 'ns',
    outputTimeoutMs: 5000,
    maxJsonDepth: 64,
    clientIp: peerAddress,
    logger,
    metrics: new Metrics({ defaultMetrics: false }),
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await connections.closeAll();
  await redis.destroy();
});

const send = (id: string) => fetch(`${base}/webhook/ns/hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': id }, body: '{}' });

test('a failed delivery releases its claim: the retry is delivered, the one after is a duplicate', async () => {
  mode = 'fail';
  const failed = await send('msg_retry');
  assert.equal(failed.status, 503);
  assert.ok(failed.headers.get('retry-after'));
  mode = 'ok';
  const retried = await send('msg_retry');
  assert.deepEqual(await retried.json(), { status: 'accepted', delivery_id: 'msg_retry' });
  const again = await send('msg_retry');
  assert.deepEqual(await again.json(), { status: 'accepted', delivery_id: 'msg_retry', duplicate: true });
  assert.deepEqual(delivered.filter((d) => d === 'msg_retry'), ['msg_retry']);
});

test('a copy arriving while the first is still being delivered gets 503 + Retry-After, then duplicate', async () => {
  mode = 'stall';
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  const first = send('msg_concurrent');
  await stalled; // the first request holds the claim and its output is busy
  const busy = await send('msg_concurrent');
  assert.equal(busy.status, 503);
  assert.ok(busy.headers.get('retry-after'));
  assert.equal(((await busy.json()) as { error: string }).error, 'a delivery with this id is in progress; retry later');
  mode = 'ok';
  releaseStall();
  assert.equal((await first).status, 200);
  assert.equal(((await (await send('msg_concurrent')).json()) as { duplicate?: boolean }).duplicate, true);
  assert.equal(delivered.filter((d) => d === 'msg_concurrent').length, 1);
});
