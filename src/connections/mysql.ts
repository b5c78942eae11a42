/**
 * `mysql` (CWM also writes `mariadb`): one mysql2/promise pool per connection
 * config; statements go out as server-side prepared statements (execute), so
 * values are bound, never spliced into SQL. Connects and statements are
 * bounded by OUTPUT_TIMEOUT_MS; a connection-level failure marks the server
 * down so deliveries answer 503 at once until a probe gets through again.
 */
import { Type } from '@sinclair/typebox';
import type * as MySql from 'mysql2/promise';
import { lazyModule } from './lazy-module.js';
import { SqlHealth, sqlLiveClient, verifiedTls } from './sql-health.js';
import { defineConnectionType } from './types.js';

const mysql = lazyModule<typeof MySql>('mysql2/promise');

export const mysqlConnectionSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: 'localhost' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 3306 }),
    database: Type.String({ minLength: 1, default: 'mysql' }),
    user: Type.String({ minLength: 1, default: 'root' }),
    password: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'null or "" means no password' })),
    ssl: Type.Boolean({ default: false }),
    ssl_ca_cert: Type.Optional(Type.String({ description: 'file path; empty = not set' })),
    ssl_cert: Type.Optional(Type.String({ description: 'file path; empty = not set' })),
    ssl_key: Type.Optional(Type.String({ description: 'file path; empty = not set' })),
    pool_min_size: Type.Integer({ minimum: 0, maximum: 1000, default: 0 }),
    pool_max_size: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  },
  { additionalProperties: false },
);

/** Server errors that mean "cannot take work now" rather than "this statement is wrong". */
const UNAVAILABLE_CODES = new Set(['ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'ER_BAD_DB_ERROR', 'ER_ACCESS_DENIED_ERROR']);

/** mysql2 marks socket-level failures `fatal`; network errors carry Node codes (ECONNREFUSED), server errors `ER_*`. */
export function isMysqlConnectionError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return true;
  if ('fatal' in err && err.fatal === true) return true;
  const code = 'code' in err ? err.code : undefined;
  if (typeof code !== 'string' || !code.startsWith('ER_')) return true;
  return UNAVAILABLE_CODES.has(code);
}

export const mysqlConnection = defineConnectionType({
  type: 'mysql',
  aliases: ['mariadb'],
  schema: mysqlConnectionSchema,
  create(config, ctx) {
    const { ssl, sslError } = verifiedTls(config);
    const pool = mysql().createPool({
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.user,
      password: config.password ?? '',
      ssl,
      connectionLimit: config.pool_max_size,
      maxIdle: Math.max(config.pool_min_size, 1),
      idleTimeout: 30_000,
      waitForConnections: true,
      queueLimit: 0,
      connectTimeout: ctx.timeoutMs,
      enableKeepAlive: true,
      // Dates (the json mode's timestamp) are written as UTC, as CWM wrote datetime.now(timezone.utc).
      timezone: 'Z',
    });
    const health = new SqlHealth({
      label: 'mysql',
      logger: ctx.logger,
      probe: async () => {
        if (sslError) throw sslError;
        await pool.query({ sql: 'SELECT 1', timeout: ctx.timeoutMs });
      },
    });
    return sqlLiveClient({ kind: 'mysql', name: ctx.name, health, sslError, maxConcurrency: config.pool_max_size, run: (sql, params) => pool.execute({ sql, timeout: ctx.timeoutMs }, params), isConnectionError: isMysqlConnectionError, end: () => pool.end() });
  },
});
