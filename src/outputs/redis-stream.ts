/**
 * `redis_stream`: XADD per delivery, trimmed with `MAXLEN ~` so the stream
 * stays bounded at little cost. Fields: delivery_id, namespace, webhook_id,
 * content_type, headers (JSON) and payload (the body bytes as received).
 */
import { Type } from '@sinclair/typebox';
import { redisConnection } from '../connections/redis.js';
import type { Delivery } from '../delivery/types.js';
import { defineOutput, nothingToClose } from './types.js';

export const redisStreamOutput = defineOutput({
  name: 'redis_stream',
  connectionTypes: [redisConnection],
  schema: Type.Object(
    {
      stream: Type.String({ minLength: 1, description: 'the stream key' }),
      maxlen: Type.Integer({ minimum: 1, default: 100_000 }),
      include_headers: Type.Boolean({ default: true }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(name, redisConnection);
        const fields: (string | Buffer)[] = ['delivery_id', delivery.id, 'namespace', delivery.namespace, 'webhook_id', delivery.webhookId, 'content_type', delivery.contentType];
        if (cfg.include_headers) fields.push('headers', JSON.stringify(delivery.headers));
        fields.push('payload', delivery.rawBody);
        await conn.use(() => conn.client.xadd(cfg.stream, 'MAXLEN', '~', cfg.maxlen, '*', ...fields));
      },
      close: nothingToClose,
    };
  },
});
