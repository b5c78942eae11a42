/**
 * `postgresql` (CWM also writes `postgres`): one pg Pool per connection
 * config. Connects and statements are bounded by OUTPUT_TIMEOUT_MS; a
 * connection-level failure marks the server down so deliveries answer 503 at
 * once (SqlHealth) until a probe gets through again.
 */
import { Type } from '@sinclair/typebox';
import type * as Pg from 'pg';
import type { PoolConfig } from 'pg';
import { lazyModule } from './lazy-module.js';
import { SqlHealth, sqlLiveClient, verifiedTls } from './sql-health.js';
import { defineConnectionType } from './types.js';

const pg = lazyModule<typeof Pg>('pg');

const port = Type.Integer({ minimum: 1, maximum: 65535 });
const poolSize = Type.Integer({ minimum: 1, maximum: 1000 });

export const postgresqlConnectionSchema = Type.Object(
  {
    connection_string: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'wins over the fields below (as in CWM)' })),
    host: Type.String({ minLength: 1, default: 'localhost' }),
    port: Type.Optional(port),
    database: Type.String({ minLength: 1, default: 'postgres' }),
    user: Type.String({ minLength: 1, default: 'postgres' }),
    password: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'null or "" means no password' })),
    ssl: Type.Boolean({ default: false }),
    ssl_ca_cert: Type.Optional(Type.String({ description: 'file path; empty = not set' })),
    ssl_cert: Type.Optional(Type.String({ description: 'file path; empty = not set' })),
    ssl_key: Type.Optional(Type.String({ description: 'file path; empty = not set' })),
    pool_min_size: Type.Integer({ minimum: 0, maximum: 1000, default: 0 }),
    pool_max_size: Type.Optional(poolSize),
  },
  { additionalProperties: false },
);

/** SQLSTATE classes that mean "the server cannot take work now", not "this statement is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|57P|53|3D000)/;

/** Network errors carry Node codes (ECONNREFUSED) or none (pg's "Connection terminated", timeouts); server errors a 5-character SQLSTATE. */
export function isPgConnectionError(err: unknown): boolean {
  const code = err !== null && typeof err === 'object' && 'code' in err ? err.code : undefined;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return UNAVAILABLE_SQLSTATE.test(code);
}

export const postgresqlConnection = defineConnectionType({
  type: 'postgresql',
  aliases: ['postgres'],
  schema: postgresqlConnectionSchema,
  create(config, ctx) {
    const { ssl, sslError } = verifiedTls(config);
    const common: PoolConfig = {
      ssl,
      min: config.pool_min_size,
      max: config.pool_max_size ?? 10,
      connectionTimeoutMillis: ctx.timeoutMs,
      query_timeout: ctx.timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'cwm',
    };
    const pool = new (pg().Pool)(
      config.connection_string
        ? { ...common, connectionString: config.connection_string }
        : { ...common, host: config.host, port: config.port ?? 5432, database: config.database, user: config.user, password: config.password ?? '' },
    );
    const health = new SqlHealth({
      label: 'postgresql',
      logger: ctx.logger,
      probe: async () => {
        if (sslError) throw sslError;
        await pool.query('SELECT 1');
      },
    });
    // An idle pooled socket that dies (server stopped) is reported here; unhandled it would crash the process.
    pool.on('error', (err) => health.markDown(err.message));
    return sqlLiveClient({ kind: 'postgresql', name: ctx.name, health, sslError, maxConcurrency: common.max ?? 10, run: (sql, params) => pool.query(sql, params), isConnectionError: isPgConnectionError, end: () => pool.end() });
  },
});
