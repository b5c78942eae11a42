/**
 * The durable spool: a redis_queue webhook with `retry.enabled` (answered 202
 * once the delivery is a BullMQ job in the spool Redis) against the same
 * redis_queue webhook without retry (answered 200 once the job is in the
 * destination Redis), in the same cwm process under the same wrk load in
 * interleaved rounds. The spool queue is paused (BullMQ's global pause)
 * while the rounds run, so the figures are the 202 path alone and the
 * workers' CPU is not charged to either side. Then the workers are let go
 * on the backlog the rounds left: deliveries per second from the spool to
 * the destination. Last, one round with the workers running: the 202 path
 * and the delivery rate while they share the process.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SPOOL_PREFIX, SPOOL_QUEUE, spoolJobId, type SpooledDelivery } from '../../src/delivery/spool.js';
import { waitFor } from '../../test/helpers/ports.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis.js';
import { compare, CONNECTIONS, loadFigures, ratioFigures, type Backing } from '../lib/compare.js';
import { runLoad } from '../lib/load.js';
import { PAYLOAD } from '../lib/payload.js';
import { cpuSecondsOf, startCwmServer, withServers } from '../lib/processes.js';
import type { BenchContext, Figure, Scenario } from '../lib/scenario.js';
import { configDir } from './http.js';

const DEST_QUEUE = 'bench-durable';

function redisBacking(label: string, redis: RedisServer): Backing {
  const pid = redis.pid;
  if (pid === undefined) throw new Error(`${label} has no pid`);
  return { label, cpuSeconds: () => cpuSecondsOf(pid) };
}

/** A BullMQ queue handle from the bench process (its own client), closed by the caller. */
function queueOn(url: string, name: string, prefix?: string): { queue: Queue; close(): Promise<void> } {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: client, ...(prefix ? { prefix } : {}) });
  return { queue, close: async () => { await queue.close(); client.disconnect(); } };
}

const count = async (q: Queue): Promise<number> => Object.values(await q.getJobCounts('waiting', 'delayed', 'active', 'prioritized')).reduce((a, b) => a + b, 0);

/** Lets the workers go and times them through the backlog: spool → destination. Resolves deliveries per second. */
async function drain(ctx: BenchContext, spool: Queue, dest: Queue): Promise<{ backlog: number; perSecond: number }> {
  const backlog = await count(spool);
  const before = await count(dest);
  ctx.log(`workers resumed on a backlog of ${backlog} spooled deliveries`);
  const started = performance.now();
  await spool.resume();
  await waitFor(async () => (await count(dest)) - before >= backlog, 600_000, 'spool drained into the destination', 100);
  return { backlog, perSecond: Math.round(backlog / ((performance.now() - started) / 1000)) };
}

/** Spools `n` deliveries of webhook `durable` straight into the (paused) spool, as accept() stores them. */
async function fillSpool(spool: Queue, n: number, prefix: string): Promise<void> {
  const body = Buffer.from(PAYLOAD).toString('base64');
  for (let i = 0; i < n; i += 1000) {
    await spool.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, k) => {
      const deliveryId = `${prefix}-${i + k}`;
      const data: SpooledDelivery = { v: 1, deliveryId, namespace: 'default', webhookId: 'durable', receivedAt: Date.now(), headers: {}, body, contentType: 'application/json', initialDelayMs: 1000, maxDelayMs: 10_000, multiplier: 2 };
      return { name: 'default/durable', data, opts: { jobId: spoolJobId('default', 'durable', deliveryId), attempts: 5, backoff: { type: 'cwm' }, removeOnComplete: { age: 86_400 }, removeOnFail: false } };
    }));
  }
}

/** The workers alone with SPOOL_WEBHOOK_CONCURRENCY at `cap`: a fresh cwm, a prefilled paused spool, timed to empty. */
async function drainWithCap(ctx: BenchContext, env: Record<string, string>, spool: Queue, dest: Queue, cap: number): Promise<number> {
  const n = ctx.smoke ? 500 : 20_000;
  await spool.pause();
  await fillSpool(spool, n, `cap${cap}`);
  return withServers([() => startCwmServer(ctx, `durable-cap${cap}`, { ...env, SPOOL_WEBHOOK_CONCURRENCY: String(cap) })], async () => (await drain(ctx, spool, dest)).perSecond);
}

/** One wrk round on the durable webhook with the workers delivering at the same time. */
async function sharedRound(ctx: BenchContext, baseUrl: string, dest: Queue): Promise<Figure[]> {
  const before = await count(dest);
  const durationS = ctx.smoke ? 1 : 8;
  ctx.log(`durable webhook with the workers running: ${durationS} s`);
  const started = performance.now();
  const r = await runLoad({ baseUrl, paths: ['/webhook/durable'], body: PAYLOAD, connections: CONNECTIONS, durationS });
  const delivered = (await count(dest)) - before;
  const seconds = (performance.now() - started) / 1000;
  return [
    { measure: 'durable 202 path with the workers running, throughput', value: Math.round(r.rps), unit: 'req/s' },
    { measure: 'durable 202 path with the workers running, p99', value: r.p99Ms, unit: 'ms' },
    { measure: 'worker delivery throughput meanwhile', value: Math.round(delivered / seconds), unit: 'deliveries/s' },
    { measure: 'durable 202 path with the workers running, failed requests', value: r.socketErrors + r.badStatus, unit: 'count', goal: { op: '<=', target: 0 } },
  ];
}

export const durableScenario: Scenario = {
  name: 'durable',
  description: `redis_queue webhook with retry + SPOOL_CONNECTION (202 once in the spool Redis) vs the same webhook synchronous (200 once in the destination Redis), one cwm, two redis-servers (no AOF); wrk, ${CONNECTIONS} connections, ${Buffer.byteLength(PAYLOAD)}-byte JSON body, interleaved rounds with the spool paused, medians; then the workers' delivery rate on the backlog, and one round with the workers running`,
  async run(ctx) {
    const [spoolRedis, destRedis] = await Promise.all([startRedis(), startRedis()]);
    const spool = queueOn(spoolRedis.url, SPOOL_QUEUE, SPOOL_PREFIX);
    const dest = queueOn(destRedis.url, DEST_QUEUE);
    try {
      const output = (queue: string): Record<string, unknown> => ({ module: 'redis_queue', connection: 'dest', 'module-config': { queue_name: queue, remove_on_complete: true } });
      const dir = configDir(
        ctx,
        'durable',
        { sync: output('bench-sync'), durable: { ...output(DEST_QUEUE), retry: { enabled: true, max_attempts: 5, initial_delay: 1, max_delay: 10 } } },
        { dest: { type: 'redis', url: destRedis.url }, spool: { type: 'redis', url: spoolRedis.url } },
      );
      await spool.queue.pause();
      const env = { CONFIG_BACKEND: 'file', CONFIG_DIR: dir, OUTPUT_TIMEOUT_MS: '5000', SPOOL_CONNECTION: 'spool' };
      const http = await withServers([() => startCwmServer(ctx, 'durable', env)], async ([server]) => {
        const [sync, durable] = await compare(ctx, [
          { label: 'cwm redis_queue webhook (200)', server, paths: ['/webhook/sync'], backing: [redisBacking('destination redis-server', destRedis)] },
          { label: 'cwm durable redis_queue webhook (202)', server, paths: ['/webhook/durable'], backing: [redisBacking('spool redis-server', spoolRedis)] },
        ]);
        if (!sync || !durable) throw new Error('compare returned fewer results than targets');
        const figures = [...loadFigures(sync), ...loadFigures(durable), ...ratioFigures(durable, sync, { throughput: { op: '>=', target: 0.8 }, p99: { op: '<=', target: 1.25 } })];
        const { backlog, perSecond } = await drain(ctx, spool.queue, dest.queue);
        figures.push(
          { measure: 'spool backlog left by the rounds, delivered by the workers', value: backlog, unit: 'deliveries' },
          { measure: 'worker delivery throughput on that backlog, spool → destination, no HTTP load', value: perSecond, unit: 'deliveries/s' },
        );
        figures.push(...(await sharedRound(ctx, server.baseUrl, dest.queue)));
        return figures;
      });
      // The fairness cap against no cap, one webhook's backlog: what SPOOL_WEBHOOK_CONCURRENCY costs a single busy webhook.
      const capped = await drainWithCap(ctx, env, spool.queue, dest.queue, 4);
      const uncapped = await drainWithCap(ctx, env, spool.queue, dest.queue, 16);
      return [
        ...http,
        { measure: 'worker delivery throughput, one webhook, SPOOL_WEBHOOK_CONCURRENCY 4 (default) of SPOOL_CONCURRENCY 16', value: capped, unit: 'deliveries/s' },
        { measure: 'worker delivery throughput, one webhook, SPOOL_WEBHOOK_CONCURRENCY 16 (no fairness cap)', value: uncapped, unit: 'deliveries/s' },
        { measure: 'capped / uncapped delivery throughput', value: capped / uncapped, unit: 'x' },
      ];
    } finally {
      await Promise.all([spool.close(), dest.close()]);
      await Promise.all([spoolRedis.destroy(), destRedis.destroy()]);
    }
  },
};
