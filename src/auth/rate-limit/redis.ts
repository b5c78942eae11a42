/**
 * Limiter shared by every instance through one Redis key per namespace+id:
 * INCR and PEXPIRE in one Lua script (atomic, one round trip), fixed window.
 * A missing or failing connection answers 503 like any other Redis dependency.
 */
import type { Logger } from 'pino';
import { redisConnection } from '../../connections/redis.js';
import type { ConnectionLookup } from '../../connections/types.js';
import { storeUnavailable } from '../rejections.js';
import type { CheckRun } from '../types.js';
import { tooManyRequests, type RateLimit } from './types.js';

const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

export interface RedisRateLimitOptions {
  readonly limit: RateLimit;
  readonly connection: string;
  readonly connections: ConnectionLookup;
  readonly key: string;
  readonly logger: Logger;
}

export function redisRateLimit(options: RedisRateLimitOptions): CheckRun {
  const windowMs = String(options.limit.windowSeconds * 1000);
  return async () => {
    let reply: unknown;
    try {
      const conn = await options.connections.ready(options.connection, redisConnection);
      reply = await conn.use(() => conn.client.eval(SCRIPT, 1, options.key, windowMs));
    } catch (err) {
      options.logger.warn({ connection: options.connection, reason: (err as Error).message }, 'rate limit store failed; answered 503');
      return storeUnavailable;
    }
    const [count, ttl] = reply as [number, number];
    return count > options.limit.maxRequests ? tooManyRequests(ttl) : null;
  };
}
