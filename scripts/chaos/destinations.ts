/**
 * Reads back what reached each kind of destination, as delivery id → copies:
 * BullMQ jobs, Kafka records (read with kcat, another client than cwm's),
 * and the `log` output's lines on cwm's stdout.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DELIVERY_ID_HEADER } from '../../src/outputs/kafka.js';
import type { Envelope } from '../../src/outputs/envelope.js';
import type { CwmProcess } from '../../test/helpers/cwm-process.js';
import { readTopic } from '../../test/helpers/kafka.js';
import { countIds } from './tally.js';

export type Counts = ReadonlyMap<string, number>;

export async function bullmqDeliveries(redisUrl: string, queueName: string): Promise<Counts> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<Envelope>(queueName, { connection: client });
  try {
    const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children'], 0, -1);
    return countIds(jobs.map((j) => j.data.meta.delivery_id));
  } finally {
    await queue.close();
    client.disconnect();
  }
}

/** Delivery ids in redis_stream entries (one entry per XADD, so every repeat shows). */
export async function streamDeliveries(redisUrl: string, streams: readonly string[]): Promise<Counts> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    const ids: string[] = [];
    for (const stream of streams) {
      for (const [, fields] of await client.xrange(stream, '-', '+')) ids.push(fields[fields.indexOf('delivery_id') + 1] ?? '');
    }
    return countIds(ids);
  } finally {
    client.disconnect();
  }
}

export async function kafkaDeliveries(bootstraps: string, topic: string): Promise<Counts> {
  const records = await readTopic(bootstraps, topic);
  return countIds(records.map((r) => r.headers.get(DELIVERY_ID_HEADER) ?? ''));
}

/** Delivery ids in the `log` output's lines of these instances. */
export function logDeliveries(instances: readonly CwmProcess[]): Counts {
  const ids: string[] = [];
  for (const cwm of instances) {
    for (const line of cwm.logs) if (line.msg === 'webhook received' && typeof line.delivery_id === 'string') ids.push(line.delivery_id);
  }
  return countIds(ids);
}

/**
 * Reads until every expected id is there or the time is up: stdout lines and
 * records may arrive a little after the 2xx. Whatever is missing then is lost.
 */
export async function settle(read: () => Promise<Counts> | Counts, expected: readonly string[], timeoutMs = 5000): Promise<Counts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await read();
    if (expected.every((id) => counts.has(id)) || Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 100));
  }
}
