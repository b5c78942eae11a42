/**
 * `clickhouse`: one @clickhouse/client (HTTP interface) per connection
 * config. CWM's fields: host, port, database, user, password, secure.
 * CWM's own code spoke the native protocol (port 9000); this client speaks
 * HTTP, so `port` is the HTTP port (8123, as CWM's docs write it).
 * Once the server is known unreachable, inserts fail at once until the next
 * trial (health.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type * as ChClient from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { ServerHealth } from './health.js';
import { lazyModule } from './lazy-module.js';
import { defineConnectionType } from './types.js';

const clickhouse = lazyModule<typeof ChClient>('@clickhouse/client');

export const clickhouseConnectionSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: 'localhost' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8123, description: 'the HTTP port' }),
    database: Type.String({ pattern: '^[a-zA-Z0-9_]+$', default: 'default' }),
    user: Type.String({ minLength: 1, default: 'default' }),
    password: Type.Optional(Type.String()),
    secure: Type.Boolean({ default: false, description: 'https' }),
  },
  { additionalProperties: false },
);

export type ClickhouseConnectionConfig = Static<typeof clickhouseConnectionSchema>;

export interface ClickhouseStore {
  /** DDL or another statement without result; resolves once the server answered. */
  command(sql: string, signal: AbortSignal): Promise<void>;
  /** Resolves once the server answered the INSERT (the part is written for MergeTree). */
  insert(table: string, rows: readonly Record<string, string>[], signal: AbortSignal): Promise<void>;
  usable(): boolean;
  close(): Promise<void>;
}

class Store implements ClickhouseStore {
  private readonly client: ClickHouseClient;
  private readonly health: ServerHealth;

  constructor(config: ClickhouseConnectionConfig, timeoutMs: number, logger: Logger) {
    const ch = clickhouse();
    this.client = ch.createClient({
      url: `${config.secure ? 'https' : 'http'}://${config.host}:${config.port}`,
      username: config.user,
      password: config.password ?? '',
      database: config.database,
      request_timeout: timeoutMs,
      application: 'cwm',
      // Its logger prints a stack per refused connection; the health tracker logs state changes once.
      log: { level: ch.ClickHouseLogLevel.OFF },
    });
    this.health = new ServerHealth(logger, 'clickhouse');
  }

  usable(): boolean {
    return this.health.usable();
  }

  private async guard(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
      this.health.up();
    } catch (err) {
      const e = err as Error;
      // A ClickHouseError is the server's answer (bad table, types): it is up. Anything else: unreachable.
      if (!(err instanceof clickhouse().ClickHouseError)) this.health.down(e.message);
      throw new UnavailableError(`clickhouse: ${e.message.split('\n')[0] ?? ''}`, { cause: err });
    }
  }

  command(sql: string, signal: AbortSignal): Promise<void> {
    return this.guard(() => this.client.command({ query: sql, abort_signal: signal }));
  }

  insert(table: string, rows: readonly Record<string, string>[], signal: AbortSignal): Promise<void> {
    return this.guard(() => this.client.insert({ table, values: [...rows], format: 'JSONEachRow', abort_signal: signal }));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export const clickhouseConnection = defineConnectionType({
  type: 'clickhouse',
  schema: clickhouseConnectionSchema,
  create(config, ctx) {
    const store = new Store(config, ctx.timeoutMs, ctx.logger);
    return { client: store as ClickhouseStore, ready: () => Promise.resolve(store.usable()), close: () => store.close() };
  },
});
