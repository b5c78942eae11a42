/**
 * `redis_queue`: one BullMQ job per delivery, job id = the delivery id, so a
 * sender's retry of the same delivery adds no second job while the first
 * still exists. Queues are shared per connection client and queue name,
 * built on first use and closed with the client.
 */
import { Type } from '@sinclair/typebox';
import type * as BullMQ from 'bullmq';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { lazyModule } from '../connections/lazy-module.js';
import { redisConnection } from '../connections/redis.js';
import type { Connection } from '../connections/types.js';
import type { Delivery } from '../delivery/types.js';
import { envelope, type Envelope } from './envelope.js';
import { defineOutput, nothingToClose } from './types.js';

const bullmq = lazyModule<typeof BullMQ>('bullmq');

/** BullMQ refuses integer-looking ids and ids with ":"; those are encoded, the same way every time. */
export function jobIdFor(deliveryId: string): string {
  const plain = !deliveryId.includes(':') && `${parseInt(deliveryId, 10)}` !== deliveryId;
  return plain ? deliveryId : `d-${Buffer.from(deliveryId).toString('base64url')}`;
}

function queueOf(conn: Connection<Redis>, prefix: string, queueName: string, onError: (err: Error) => void): Queue<Envelope> {
  return conn.shared(`bullmq\u0000${prefix}\u0000${queueName}`, () => {
    const queue = new (bullmq().Queue)<Envelope>(queueName, { connection: conn.client, prefix });
    // Without a listener an EventEmitter 'error' would throw; the client already logs its own state.
    queue.on('error', onError);
    return queue;
  });
}

/** `true`, `false` or a count of jobs to keep (BullMQ's removeOnComplete / removeOnFail). */
const keepJobs = Type.Optional(Type.Union([Type.Boolean(), Type.Integer({ minimum: 0 })]));

export const redisQueueOutput = defineOutput({
  name: 'redis_queue',
  connectionTypes: [redisConnection],
  schema: Type.Object(
    {
      queue_name: Type.Optional(Type.String({ minLength: 1, description: "default: the webhook's top-level queue_name, else \"default\"" })),
      job_name: Type.String({ minLength: 1, default: 'webhook' }),
      prefix: Type.String({ minLength: 1, default: 'bull' }),
      attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      remove_on_complete: keepJobs,
      remove_on_fail: keepJobs,
      include_headers: Type.Boolean({ default: true }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    const queueName = cfg.queue_name ?? spec.queueName ?? 'default';
    const options = { attempts: cfg.attempts, removeOnComplete: cfg.remove_on_complete, removeOnFail: cfg.remove_on_fail };
    const log = ctx.logger.child({ output: 'redis_queue', queue: queueName });
    const onError = (err: Error): void => log.debug({ reason: err.message }, 'bullmq queue error');
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(name, redisConnection);
        const queue = queueOf(conn, cfg.prefix, queueName, onError);
        await conn.use(() => queue.add(cfg.job_name, envelope(delivery, cfg.include_headers), { jobId: jobIdFor(delivery.id), ...options }));
      },
      close: nothingToClose,
    };
  },
});
