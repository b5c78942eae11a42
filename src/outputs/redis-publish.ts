/**
 * `redis_publish`: PUBLISH of the JSON envelope on `channel`. Redis pub/sub
 * keeps nothing: the acknowledgement means Redis took the message, not that a
 * subscriber was listening.
 */
import type { Delivery } from '../delivery/types.js';
import { connectionName, redisConnection } from './connection.js';
import { envelope } from './envelope.js';
import { optionalBoolean, requiredString } from './module-config.js';
import { nothingToClose, type BoundOutput, type OutputContext, type OutputModule, type OutputSpec } from './types.js';

export const redisPublishOutput: OutputModule = {
  name: 'redis_publish',
  bind(spec: OutputSpec, ctx: OutputContext): BoundOutput {
    const cfg = spec.moduleConfig;
    const name = connectionName(spec);
    const channel = requiredString(cfg, 'channel', 'redis_publish');
    const withHeaders = optionalBoolean(cfg, 'include_headers') ?? true;
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await redisConnection(ctx.connections, name);
        const message = JSON.stringify(envelope(delivery, withHeaders));
        await conn.use(() => conn.redis.publish(channel, message));
      },
      close: nothingToClose,
    };
  },
};
