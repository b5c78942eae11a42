/**
 * `dedupe`: a delivery id already delivered within the TTL is not delivered
 * again. Redis-backed so every instance agrees. An id is claimed with
 * SET NX (short pending TTL), turned into "done" for the full TTL only after
 * every output acknowledged, and released when delivery failed — so a 503
 * followed by the sender's retry is delivered, never swallowed.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConnectionLookup } from '../connections/types.js';
import { redisConnection } from '../connections/redis.js';
import type { CheckContext, DedupeClaim, DeliveryDedupe } from './types.js';

const DONE = 'done';
/** Bounds how long a crashed instance's claim blocks retries of that id. */
const MAX_PENDING_MS = 60_000;

const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == '${DONE}' then return 0 end
return -1`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface DedupeOptions {
  readonly connection: string;
  readonly connections: ConnectionLookup;
  /** Prefix naming the webhook (namespace + id), so equal ids of different webhooks never collide. */
  readonly keyPrefix: string;
  readonly ttlSeconds: number;
  readonly logger: Logger;
}

export function redisDedupe(options: DedupeOptions): DeliveryDedupe {
  const ttlMs = options.ttlSeconds * 1000;
  const pendingMs = String(Math.min(ttlMs, MAX_PENDING_MS));
  const failed = (op: string, err: unknown): void => {
    options.logger.warn({ connection: options.connection, op, reason: (err as Error).message }, 'dedupe store failed');
  };
  return {
    async claim(deliveryId): Promise<DedupeClaim> {
      let conn;
      try {
        conn = await options.connections.ready(options.connection, redisConnection);
      } catch {
        return { kind: 'unavailable' };
      }
      const redis = conn.client;
      const key = options.keyPrefix + deliveryId;
      const token = randomUUID();
      let state: unknown;
      try {
        state = await conn.use(() => redis.eval(CLAIM, 1, key, token, pendingMs));
      } catch (err) {
        failed('claim', err);
        return { kind: 'unavailable' };
      }
      if (state === 0) return { kind: 'duplicate' };
      if (state !== 1) return { kind: 'busy' };
      return {
        kind: 'new',
        async commit() {
          // Failing here only shortens the memory to the pending TTL: at-least-once still holds.
          await conn.use(() => redis.set(key, DONE, 'PX', ttlMs)).catch((err: unknown) => failed('commit', err));
        },
        async release() {
          await conn.use(() => redis.eval(RELEASE, 1, key, token)).catch((err: unknown) => failed('release', err));
        },
      };
    },
  };
}

/** The dedupe store of a webhook's `dedupe` block, keyed per namespace and id. */
export function compileDedupe(config: { readonly connection: string; readonly ttl_seconds: number }, ctx: CheckContext): DeliveryDedupe {
  return redisDedupe({
    connection: config.connection,
    connections: ctx.connections,
    keyPrefix: `cwm:dedupe:${ctx.namespace}/${ctx.id}:`,
    ttlSeconds: config.ttl_seconds,
    logger: ctx.logger,
  });
}
