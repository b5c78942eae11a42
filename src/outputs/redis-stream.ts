/**
 * `redis_stream`: XADD per delivery, trimmed with `MAXLEN ~` so the stream
 * stays bounded at little cost. Fields: delivery_id, namespace, webhook_id,
 * content_type, headers (JSON) and payload (the body bytes as received).
 */
import type { Delivery } from '../delivery/types.js';
import { connectionName, redisConnection } from './connection.js';
import { optionalBoolean, optionalInteger, requiredString } from './module-config.js';
import { nothingToClose, type BoundOutput, type OutputContext, type OutputModule, type OutputSpec } from './types.js';

export const redisStreamOutput: OutputModule = {
  name: 'redis_stream',
  bind(spec: OutputSpec, ctx: OutputContext): BoundOutput {
    const cfg = spec.moduleConfig;
    const name = connectionName(spec);
    const stream = requiredString(cfg, 'stream', 'redis_stream', ' (the stream key)');
    const maxlen = optionalInteger(cfg, 'maxlen', 1) ?? 100_000;
    const withHeaders = optionalBoolean(cfg, 'include_headers') ?? true;
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await redisConnection(ctx.connections, name);
        const fields: (string | Buffer)[] = ['delivery_id', delivery.id, 'namespace', delivery.namespace, 'webhook_id', delivery.webhookId, 'content_type', delivery.contentType];
        if (withHeaders) fields.push('headers', JSON.stringify(delivery.headers));
        fields.push('payload', delivery.rawBody);
        await conn.use(() => conn.redis.xadd(stream, 'MAXLEN', '~', maxlen, '*', ...fields));
      },
      close: nothingToClose,
    };
  },
};
