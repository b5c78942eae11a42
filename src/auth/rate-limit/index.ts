/**
 * `rate_limit`: a fixed window per namespace+id, in process or shared by
 * every instance through Redis when `connection` is set. It runs after the
 * webhook's authentication checks, so unauthenticated traffic never spends a
 * legitimate sender's budget.
 */
import { Type } from '@sinclair/typebox';
import { connectionName } from '../schema-parts.js';
import { defineCheck } from '../types.js';
import { memoryRateLimit } from './memory.js';
import { redisRateLimit } from './redis.js';

const ALLOW_ALL = (): null => null;

export const rateLimitCheck = defineCheck({
  field: 'rate_limit',
  schema: Type.Object(
    {
      max_requests: Type.Integer({ minimum: 1, default: 100, description: "CWM's default when absent" }),
      window_seconds: Type.Integer({ minimum: 1, maximum: 86400, default: 60, description: "CWM's default when absent" }),
      enabled: Type.Boolean({ default: true, description: "CWM's switch; false turns the limit off" }),
      connection: Type.Optional({ ...connectionName, description: 'Redis connection shared by all instances; in-process when absent.' }),
    },
    { additionalProperties: false },
  ),
  phase: 'after-auth',
  order: 100,
  connections: (config) => (config.connection && config.enabled ? [config.connection] : []),
  compile(config, ctx) {
    if (!config.enabled) return ALLOW_ALL;
    const limit = { maxRequests: config.max_requests, windowSeconds: config.window_seconds };
    if (!config.connection) return memoryRateLimit(limit, ctx.now);
    return redisRateLimit({ limit, connection: config.connection, connections: ctx.connections, key: `cwm:ratelimit:${ctx.namespace}/${ctx.id}`, logger: ctx.logger });
  },
});
