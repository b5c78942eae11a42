/**
 * `redis_queue` (CWM's `redis_rq`): one BullMQ job per delivery, job id = the
 * delivery id, so a sender's retry of the same delivery adds no second job
 * while the first still exists. Queues are shared per connection client and
 * queue name, built on first use and closed with the client.
 */
import type * as BullMQ from 'bullmq';
import type { Queue } from 'bullmq';
import { lazyModule } from '../connections/lazy-module.js';
import type { RedisConnection } from '../connections/types.js';
import type { Delivery } from '../delivery/types.js';
import { connectionName, redisConnection } from './connection.js';
import { envelope, type Envelope } from './envelope.js';
import { optionalBoolean, optionalBooleanOrCount, optionalInteger, optionalString } from './module-config.js';
import { nothingToClose, type BoundOutput, type OutputContext, type OutputModule, type OutputSpec } from './types.js';

const bullmq = lazyModule<typeof BullMQ>('bullmq');

/** BullMQ refuses integer-looking ids and ids with ":"; those are encoded, the same way every time. */
export function jobIdFor(deliveryId: string): string {
  const plain = !deliveryId.includes(':') && `${parseInt(deliveryId, 10)}` !== deliveryId;
  return plain ? deliveryId : `d-${Buffer.from(deliveryId).toString('base64url')}`;
}

function queueOf(conn: RedisConnection, prefix: string, queueName: string, onError: (err: Error) => void): Queue<Envelope> {
  return conn.shared(`bullmq\u0000${prefix}\u0000${queueName}`, () => {
    const queue = new (bullmq().Queue)<Envelope>(queueName, { connection: conn.redis, prefix });
    // Without a listener an EventEmitter 'error' would throw; the client already logs its own state.
    queue.on('error', onError);
    return queue;
  });
}

export const redisQueueOutput: OutputModule = {
  name: 'redis_queue',
  bind(spec: OutputSpec, ctx: OutputContext): BoundOutput {
    const cfg = spec.moduleConfig;
    const name = connectionName(spec);
    // CWM's redis_rq default queue.
    const queueName = optionalString(cfg, 'queue_name') ?? 'default';
    const jobName = optionalString(cfg, 'job_name') ?? 'webhook';
    const prefix = optionalString(cfg, 'prefix') ?? 'bull';
    const attempts = optionalInteger(cfg, 'attempts', 1, 1000);
    const removeOnComplete = optionalBooleanOrCount(cfg, 'remove_on_complete');
    const removeOnFail = optionalBooleanOrCount(cfg, 'remove_on_fail');
    const withHeaders = optionalBoolean(cfg, 'include_headers') ?? true;
    const log = ctx.logger.child({ output: 'redis_queue', queue: queueName });
    const onError = (err: Error): void => log.debug({ reason: err.message }, 'bullmq queue error');
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await redisConnection(ctx.connections, name);
        const queue = queueOf(conn, prefix, queueName, onError);
        await conn.use(() => queue.add(jobName, envelope(delivery, withHeaders), { jobId: jobIdFor(delivery.id), attempts, removeOnComplete, removeOnFail }));
      },
      close: nothingToClose,
    };
  },
};
