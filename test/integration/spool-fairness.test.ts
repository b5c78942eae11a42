/**
 * Fairness of the spool workers, against a real Redis spool and real HTTP
 * destinations owned by the test: a webhook whose destination hangs (never
 * answers; each attempt ends at OUTPUT_TIMEOUT_MS) must not hold every worker
 * slot, so a healthy webhook's deliveries, spooled behind the slow ones, are
 * delivered while the slow ones are still stuck. The control run has the cap
 * equal to SPOOL_CONCURRENCY (no fairness) and shows the starvation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

/** A destination that reads each request and then either answers 200 at once or holds it until the client gives up. */
interface Destination {
  readonly port: number;
  /** Requests held open now, the most ever held at once, and how many the client abandoned. */
  readonly held: { now: number; max: number; ended: number };
  /** Delivery ids answered 200, with the time each arrived. */
  readonly delivered: Map<string, number>;
  close(): Promise<void>;
}

async function destination(hang: boolean): Promise<Destination> {
  const held = { now: 0, max: 0, ended: 0 };
  const delivered = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!hang) {
        delivered.set((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id, performance.now());
        res.writeHead(200).end('ok');
        return;
      }
      held.now++;
      held.max = Math.max(held.max, held.now);
      res.on('close', () => {
        held.now--;
        held.ended++;
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    held,
    delivered,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const CONCURRENCY = 4;
const retry = { enabled: true, max_attempts: 5, initial_delay: 0.2, max_delay: 0.5 };
let spool: RedisServer;
let slow: Destination;
let healthy: Destination;
let dir: ConfigDir;
const started: CwmProcess[] = [];

before(async () => {
  [spool, slow, healthy] = await Promise.all([startRedis(), destination(true), destination(false)]);
  const hook = (port: number): Record<string, unknown> => ({ module: 'http_webhook', 'module-config': { url: `http://127.0.0.1:${port}/in` }, retry });
  dir = configDirWith({ slow: hook(slow.port), healthy: hook(healthy.port), slow2: hook(slow.port), healthy2: hook(healthy.port) }, { spool: { type: 'redis', url: spool.url } });
});

after(async () => {
  for (const c of started) await c.stop('SIGKILL');
  await Promise.all([slow.close(), healthy.close()]);
  await spool.destroy();
  dir.remove();
});

async function cwmWith(webhookConcurrency: number, outputTimeoutMs: number): Promise<CwmProcess> {
  const c = await startCwm({ CONFIG_DIR: dir.path, SPOOL_CONNECTION: 'spool', SPOOL_CONCURRENCY: String(CONCURRENCY), SPOOL_WEBHOOK_CONCURRENCY: String(webhookConcurrency), OUTPUT_TIMEOUT_MS: String(outputTimeoutMs), ALLOW_LOCALHOST_FOR_TESTS: 'true', LOG_LEVEL: 'warn' });
  started.push(c);
  return c;
}

async function spoolAll(c: CwmProcess, path: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const res = await c.post(path, { id }, { 'x-delivery-id': id });
    assert.equal(res.status, 202, await res.text());
  }
}

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

async function deferred(c: CwmProcess): Promise<number> {
  const text = await (await fetch(`${c.baseUrl}/metrics`)).text();
  return Number(/^cwm_spool_deferred_total\{namespace="default"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

test('a hung destination holds SPOOL_WEBHOOK_CONCURRENCY slots; a healthy webhook spooled behind it is delivered meanwhile', async () => {
  // 20 s per stuck attempt: everything healthy must be through before the first one ends.
  const c = await cwmWith(1, 20_000);
  const slowIds = ids('slow', 20);
  const healthyIds = ids('ok', 20);
  await spoolAll(c, '/webhook/slow', slowIds);
  await waitFor(() => slow.held.now >= 1, 10_000, 'a slow attempt in flight', 10);
  const t0 = performance.now();
  await spoolAll(c, '/webhook/healthy', healthyIds);
  await waitFor(() => healthyIds.every((id) => healthy.delivered.has(id)), 15_000, 'every healthy delivery', 20);
  const ms = Math.max(...healthyIds.map((id) => healthy.delivered.get(id) as number)) - t0;
  assert.equal(slow.held.ended, 0, 'healthy deliveries finished while the first slow attempt was still stuck');
  assert.equal(slow.held.max, 1, 'the slow webhook never held more than its cap');
  const putBack = await deferred(c);
  assert.ok(putBack > 0, 'slow jobs over the cap were put back to delayed');
  console.log(`# fairness: ${healthyIds.length} healthy deliveries spooled and delivered in ${Math.round(ms)} ms while the hung webhook held ${slow.held.max} of ${CONCURRENCY} slots (${putBack} slow jobs put back meanwhile)`);
  await c.stop('SIGKILL');
});

test('control: with the cap at SPOOL_CONCURRENCY the hung webhook takes every slot and the healthy one waits for its timeouts', async () => {
  // The first test's slow jobs are still in the spool (its instance was killed): cleared, so only this test's jobs are ahead.
  const client = new Redis(spool.url, { maxRetriesPerRequest: null });
  const queue = new Queue('deliveries', { connection: client, prefix: 'cwm-spool' });
  await queue.obliterate({ force: true });
  await queue.close();
  client.disconnect();
  const timeoutMs = 1500;
  const c = await cwmWith(CONCURRENCY, timeoutMs);
  const slowIds = ids('slow2', CONCURRENCY);
  const healthyIds = ids('ok2', 5);
  await spoolAll(c, '/webhook/slow2', slowIds);
  await waitFor(() => slow.held.now >= CONCURRENCY, 10_000, 'every slot on a slow attempt', 10);
  const endedBefore = slow.held.ended;
  const t0 = performance.now();
  await spoolAll(c, '/webhook/healthy2', healthyIds);
  await waitFor(() => healthyIds.some((id) => healthy.delivered.has(id)), 20_000, 'a healthy delivery', 20);
  const ms = (healthy.delivered.get(healthyIds.find((id) => healthy.delivered.has(id)) as string) as number) - t0;
  assert.ok(slow.held.ended - endedBefore >= 1, 'the first healthy delivery only went out after a slow attempt timed out');
  assert.ok(slow.held.max >= CONCURRENCY, 'the slow webhook held every slot');
  console.log(`# fairness control (no cap): the first healthy delivery waited ${Math.round(ms)} ms, after ${slow.held.ended - endedBefore} slow attempts timed out (OUTPUT_TIMEOUT_MS ${timeoutMs})`);
});
