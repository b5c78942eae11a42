/**
 * ioredis client per Redis connection config. No offline queue and bounded
 * timeouts: with Redis down a command fails at once (the sender gets 503 and
 * retries) instead of piling up in memory until Redis returns.
 */
import { Type, type Static } from '@sinclair/typebox';
import type * as IORedis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { lazyModule } from './lazy-module.js';
import { defineConnectionType } from './types.js';
import { reconnectDelayMs } from './backoff.js';

const ioredis = lazyModule<typeof IORedis>('ioredis');

export interface RedisClientOptions {
  readonly logger: Logger;
  /** Bounds connect and each command; OUTPUT_TIMEOUT_MS is the natural choice. */
  readonly timeoutMs: number;
}

const tlsOptions = Type.Union([Type.Boolean(), Type.Object({}, { additionalProperties: true })]);

export const redisConnectionSchema = Type.Object(
  {
    url: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    db: Type.Optional(Type.Integer({ minimum: 0 })),
    username: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    password: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'null (CWM) means no password' })),
    tls: Type.Optional(tlsOptions),
  },
  { additionalProperties: false },
);

export type RedisConnectionConfig = Static<typeof redisConnectionSchema>;

export function createRedisClient(config: RedisConnectionConfig, options: RedisClientOptions): Redis {
  const tls = config.tls === true ? {} : config.tls === false ? undefined : config.tls;
  const redisOptions: RedisOptions = {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    connectTimeout: options.timeoutMs,
    commandTimeout: options.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelayMs,
    connectionName: 'cwm',
  };
  // Only fields that are set: an undefined host would override the one in `url`.
  for (const [field, value] of [['host', config.host], ['port', config.port], ['db', config.db], ['username', config.username], ['password', config.password], ['tls', tls]] as const) {
    if (value !== undefined && value !== null) Object.assign(redisOptions, { [field]: value });
  }
  const { Redis: RedisClient } = ioredis();
  const client = config.url ? new RedisClient(config.url, redisOptions) : new RedisClient(redisOptions);
  // Logged once per state change, not on every reconnect attempt.
  let up: boolean | undefined;
  client.on('ready', () => {
    up = true;
    options.logger.info('redis connected');
  });
  client.on('error', (err: Error) => {
    if (up !== false) options.logger.warn({ reason: err.message }, 'redis unreachable; webhooks using it answer 503 until it is back');
    up = false;
  });
  return client;
}

/**
 * Whether a command can be sent now: true when connected; false at once when
 * the connection dropped and has not come back (known down: fail fast);
 * while a fresh client is still making its first connection, waits for it.
 */
export function readiness(client: Redis): () => Promise<boolean> {
  let down = false;
  let settling: Promise<void> | undefined;
  client.on('close', () => (down = true));
  client.on('ready', () => (down = false));
  const settled = (): Promise<void> =>
    (settling ??= new Promise<void>((resolve) => {
      const done = (): void => {
        client.off('ready', done);
        client.off('close', done);
        settling = undefined;
        resolve();
      };
      client.on('ready', done);
      client.on('close', done);
    }));
  return async () => {
    if (client.status === 'ready') return true;
    if (down || client.status === 'end') return false;
    await settled();
    // Read again: the status changed while we waited (TypeScript narrowed it above).
    return (client.status as string) === 'ready';
  };
}

/** `redis` (CWM also writes `redis-rq`): one ioredis client per connection config. */
export const redisConnection = defineConnectionType({
  type: 'redis',
  aliases: ['redis-rq'],
  schema: redisConnectionSchema,
  create(config, ctx) {
    const redis = createRedisClient(config, ctx);
    return {
      client: redis,
      ready: readiness(redis),
      async close() {
        // quit() waits for replies to commands already sent; disconnect() when Redis is gone anyway.
        if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
        else redis.disconnect();
      },
    };
  },
});
