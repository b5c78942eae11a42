/**
 * The durable spool under faults: 5 000 deliveries (1 500 with --short) into
 * two durable webhooks (retry + SPOOL_CONNECTION, redis_stream outputs, so a
 * repeat delivery is a second stream entry and is counted) served by two cwm
 * instances sharing one spool Redis. Meanwhile the destination Redis flaps
 * (SIGKILL, down 1.5 s, restarted, up 2.5 s, again), and instance a is
 * SIGKILLed mid-run and restarted on a new port. Every 202 must be found at
 * the destination once the spool has drained; copies are counted (the spool
 * delivers at least once) and reported.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { configDirWith } from '../../../test/helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../../../test/helpers/cwm-process.js';
import { waitFor } from '../../../test/helpers/ports.js';
import { startRedis, type RedisServer } from '../../../test/helpers/redis.js';
import { settle, streamDeliveries } from '../destinations.js';
import type { Scenario } from '../scenario.js';
import { acknowledged, cycle, roundRobin, startSender, STEADY } from '../sender.js';
import { tally } from '../tally.js';
import { hold, phase, startClock, type Clock } from '../timeline.js';

const STREAMS = ['durable-a', 'durable-b'];
const DOWN_MS = 1500;
const UP_MS = 2500;
/** How long the spool gets to drain once the load and the faults stopped. */
const DRAIN_TIMEOUT_MS = 180_000;

/** Kills and restarts the destination until stopped; resolves the flap count and the time it was down. */
function flap(dest: RedisServer, clock: Clock, notes: string[]): { stop(): Promise<void> } {
  let running = true;
  let flaps = 0;
  let downMs = 0;
  const loop = (async () => {
    await hold(UP_MS);
    while (running) {
      const at = Date.now();
      await dest.kill('SIGKILL');
      await hold(DOWN_MS);
      await dest.restart();
      flaps++;
      downMs += clock.since(at);
      if (running) await hold(UP_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      notes.push(`destination Redis flapped ${flaps} times (SIGKILL, restarted ${DOWN_MS} ms later, up ${UP_MS} ms between), ${(downMs / 1000).toFixed(1)} s down in all`);
    },
  };
}

async function spoolIdle(url: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('deliveries', { connection: client, prefix: 'cwm-spool' });
  try {
    await waitFor(async () => {
      const c = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      return Object.values(c).every((n) => n === 0);
    }, DRAIN_TIMEOUT_MS, 'spool drained', 200);
  } finally {
    await queue.close();
    client.disconnect();
  }
}

export const spoolKill: Scenario = {
  name: 'spool-kill',
  title: 'durable webhooks (spool): destination Redis flapping, one of two cwm instances SIGKILLed and restarted',
  async run({ short }) {
    const notes: string[] = [];
    const total = phase(short, 5000, 1500);
    const [spool, dest] = await Promise.all([startRedis({ durable: true }), startRedis({ durable: true })]);
    const retry = { enabled: true, max_attempts: 20, initial_delay: 0.2, max_delay: 2 };
    const hook = (stream: string): Record<string, unknown> => ({ module: 'redis_stream', connection: 'dest', 'module-config': { stream, include_headers: false }, retry });
    const dir = configDirWith({ a: hook('durable-a'), b: hook('durable-b') }, { spool: { type: 'redis', url: spool.url }, dest: { type: 'redis', url: dest.url } });
    const env = { CONFIG_DIR: dir.path, SPOOL_CONNECTION: 'spool', SPOOL_LOCK_MS: '3000', OUTPUT_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn' };
    const running: CwmProcess[] = [];
    try {
      const [a, b] = await Promise.all([startCwm(env), startCwm(env)]);
      running.push(a, b);
      // Mutated in place when a comes back on a new port: roundRobin reads it per attempt.
      const instances = [{ instance: 'a', port: a.port }, { instance: 'b', port: b.port }];
      const sender = startSender({ ...STEADY, total, prefix: 'spool', nextPath: cycle(['/webhook/a', '/webhook/b']), pickInstance: roundRobin(instances) });
      const clock = startClock();
      const flapper = flap(dest, clock, notes);
      let loadEnded = 0;
      try {
        await hold(phase(short, 6000, 2000));
        await a.stop('SIGKILL');
        notes.push(`instance a SIGKILLed at ${clock.at()}`);
        await hold(phase(short, 3000, 1500));
        const a2 = await startCwm(env);
        running.push(a2);
        instances[0] = { instance: 'a', port: a2.port };
        notes.push(`instance a restarted at ${clock.at()} (new process, new port)`);
        await waitFor(() => sender.deliveries.length >= total, 120_000, `${total} deliveries started`, 100);
      } finally {
        await sender.stop();
        loadEnded = Date.now();
        notes.push(`sender finished at ${clock.at()} (every delivery answered or given up)`);
        await flapper.stop();
      }
      const acked = sender.deliveries.filter(acknowledged).map((d) => d.id);
      if (acked.length === 0) throw new Error(`no delivery was acknowledged (answers: ${[...new Set(sender.deliveries.flatMap((d) => d.attempts.map((x) => x.status)))].join(', ')})`);
      await settle(() => streamDeliveries(dest.url, STREAMS), acked, DRAIN_TIMEOUT_MS);
      // Counted once nothing is waiting or running: a late repeat would show up in the count.
      await spoolIdle(spool.url);
      notes.push(`spool drained ${(clock.since(loadEnded) / 1000).toFixed(1)} s after the load ended (retry: 20 attempts, CWM's maximum, 0.2 s doubling to 2 s)`);
      const found = await streamDeliveries(dest.url, STREAMS);
      const answered202 = sender.deliveries.filter((d) => d.attempts.some((x) => x.status === 202)).length;
      notes.push(`${answered202} of ${sender.deliveries.length} deliveries answered 202; copies beyond the first are at-least-once repeats (an attempt whose XADD landed but whose answer was lost to the kill of the destination or of cwm)`);
      const codes = await Promise.all(running.slice(1).map((c) => c.stop('SIGTERM')));
      notes.push(`exit codes after SIGTERM at the end: b ${codes[0]}, restarted a ${codes[1]}`);
      return { tallies: [tally(`redis_stream ${STREAMS.join(' + ')}`, sender.deliveries, found)], notes, atLeastOnce: true };
    } finally {
      for (const c of running) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.stop('SIGKILL');
      await Promise.all([spool.destroy(), dest.destroy()]);
      dir.remove();
    }
  },
};
