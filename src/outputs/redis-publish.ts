/**
 * `redis_publish`: PUBLISH of the JSON envelope on `channel`. Redis pub/sub
 * keeps nothing: the acknowledgement means Redis took the message, not that a
 * subscriber was listening.
 */
import { Type } from '@sinclair/typebox';
import { redisConnection } from '../connections/redis.js';
import type { Delivery } from '../delivery/types.js';
import { envelope } from './envelope.js';
import { defineOutput, nothingToClose } from './types.js';

export const redisPublishOutput = defineOutput({
  name: 'redis_publish',
  connectionTypes: [redisConnection],
  schema: Type.Object(
    {
      channel: Type.String({ minLength: 1, default: 'webhook_events', description: "CWM's default channel" }),
      include_headers: Type.Boolean({ default: true }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(name, redisConnection);
        const message = JSON.stringify(envelope(delivery, cfg.include_headers));
        await conn.use(() => conn.client.publish(cfg.channel, message));
      },
      close: nothingToClose,
    };
  },
});
