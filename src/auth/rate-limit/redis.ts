/**
 * Limiter shared by every instance through one Redis key per namespace+id:
 * INCR and PEXPIRE in one Lua script (atomic, one round trip), fixed window.
 * A missing or failing connection answers 503 like any other Redis dependency.
 */
import type { Logger } from 'pino';
import type { ConnectionLookup } from '../../connections/types.js';
import { readyRedis, STORE_UNAVAILABLE } from '../redis-access.js';
import type { RequestCheck } from '../types.js';
import { tooManyRequests, type RateLimit } from './types.js';

const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

export interface RedisRateLimitOptions {
  readonly limit: RateLimit;
  readonly phase: RequestCheck['phase'];
  readonly connection: string;
  readonly connections: ConnectionLookup;
  readonly key: string;
  readonly logger: Logger;
}

export function redisRateLimit(options: RedisRateLimitOptions): RequestCheck {
  const windowMs = String(options.limit.windowSeconds * 1000);
  return {
    name: 'rate_limit',
    phase: options.phase,
    async run() {
      const conn = await readyRedis(options.connections, options.connection);
      if (!conn) return STORE_UNAVAILABLE;
      let reply: unknown;
      try {
        reply = await conn.use(() => conn.redis.eval(SCRIPT, 1, options.key, windowMs));
      } catch (err) {
        options.logger.warn({ connection: options.connection, reason: (err as Error).message }, 'rate limit store failed; answered 503');
        return STORE_UNAVAILABLE;
      }
      const [count, ttl] = reply as [number, number];
      return count > options.limit.maxRequests ? tooManyRequests(ttl) : null;
    },
  };
}
