/**
 * What the `postgresql` and `mysql` outputs share: CWM's module-config
 * (table, storage_mode, upsert/upsert_key, include_headers, schema), checked
 * and turned into SQL once per config change. Identifiers are validated
 * (letters, digits, underscore) and quoted by the dialect; every value is a
 * bound parameter. The table is created (CREATE TABLE IF NOT EXISTS) at the
 * first delivery of each bound config and connection client, never per request.
 * Concurrent deliveries share multi-row INSERTs (sql-batch.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConnectionType } from '../connections/types.js';
import type { SqlClient, SqlValue } from '../connections/sql-health.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError } from '../errors.js';
import { stringEnum } from '../schema-kit.js';
import { jsonSafePayload } from './envelope.js';
import { InsertBatcher } from './sql-batch.js';
import { defineOutput, nothingToClose, type OutputModule } from './types.js';

/** CWM's field types; CWM mapped unknown names to TEXT, cwm refuses them. */
export const FIELD_TYPES = ['string', 'text', 'integer', 'int', 'float', 'number', 'boolean', 'bool', 'datetime', 'timestamp', 'json', 'date', 'time'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const fieldSchema = Type.Object(
  {
    column: Type.Optional(Type.String({ minLength: 1, description: 'default: the payload key' })),
    type: stringEnum(FIELD_TYPES, { default: 'string' }),
    // PRIMARY KEY is not offered: the table's `id` is its primary key (CWM's DDL with a second one failed).
    constraints: Type.Array(stringEnum(['NOT NULL', 'UNIQUE'] as const), { default: [] }),
    default: Type.Optional(Type.Unknown({ description: '"CURRENT_TIMESTAMP" = the time of the delivery' })),
  },
  { additionalProperties: false },
);

export const sqlModuleConfigSchema = Type.Object(
  {
    table: Type.String({ minLength: 1, default: 'webhook_events' }),
    storage_mode: stringEnum(['json', 'relational', 'hybrid'] as const, { default: 'json' }),
    upsert: Type.Boolean({ default: false }),
    upsert_key: Type.String({ minLength: 1, maxLength: 256, default: 'id' }),
    include_headers: Type.Boolean({ default: true }),
    include_timestamp: Type.Boolean({ default: true, description: 'accepted for CWM; unused there too' }),
    create_table: Type.Boolean({ default: true, description: 'CREATE TABLE IF NOT EXISTS at first use' }),
    schema: Type.Object(
      {
        fields: Type.Optional(Type.Record(Type.String(), fieldSchema)),
        indexes: Type.Optional(Type.Record(Type.String(), Type.Object({ columns: Type.Array(Type.String(), { minItems: 1 }) }, { additionalProperties: false }))),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type SqlModuleConfig = Static<typeof sqlModuleConfigSchema>;

export interface SqlDialect {
  /** Longest identifier the server keeps (PostgreSQL 63, MySQL 64). */
  readonly maxIdentifier: number;
  quote(identifier: string): string;
  /** The n-th (1-based) parameter placeholder. */
  placeholder(n: number): string;
  columnType(type: FieldType): string;
  /** Column definitions CWM's tables start with, per storage mode (before the field columns). */
  baseColumns(mode: SqlModuleConfig['storage_mode'], includeHeaders: boolean): string[];
  /** The clause that turns the INSERT into an upsert on `keyColumn`, updating `columns`. */
  upsert(keyColumn: string, columns: readonly string[]): string;
  /** CWM's PostgreSQL json mode with upsert adds an index on payload; `table` is the bare name, `quotedTable` quoted. */
  payloadIndex?(table: string, quotedTable: string): string;
  /** Index statement; `name` and `columns` are already quoted. */
  createIndex(name: string, table: string, columns: readonly string[]): string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** JSON pointer segment for a user-chosen key. */
function seg(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function identifier(value: string, pointer: string, dialect: SqlDialect): string {
  if (!IDENTIFIER.test(value) || value.length > dialect.maxIdentifier) {
    throw new ConfigError(pointer, `must be a plain SQL identifier (letters, digits, _; not starting with a digit; at most ${dialect.maxIdentifier} characters)`);
  }
  return value;
}

interface Column {
  /** The payload's top-level key the value is read from. */
  readonly field: string;
  readonly name: string;
  readonly type: FieldType;
  readonly defaultValue: unknown;
}

/** Names the base columns use; a field column with one of these would make the DDL fail. */
const BASE_COLUMN_NAMES = new Set(['id', 'webhook_id', 'timestamp', 'payload', 'headers', 'created_at']);

export interface TablePlan {
  /** Statements run once before the first INSERT (empty with create_table false). */
  readonly ddl: readonly string[];
  insert(delivery: Delivery): { sql: string; params: SqlValue[] };
  /** The INSERT for `rows` deliveries at once (parameters row after row, each row's as `insert` binds them). */
  sql(rows: number): string;
  readonly paramsPerRow: number;
}

function columnValue(column: Column, payload: unknown, receivedAt: Date): SqlValue {
  const own = payload !== null && typeof payload === 'object' && !Array.isArray(payload) && !Buffer.isBuffer(payload) && Object.hasOwn(payload, column.field);
  let value: unknown = own ? Object.getOwnPropertyDescriptor(payload, column.field)?.value : undefined;
  if ((value === undefined || value === null) && column.defaultValue !== undefined) value = column.defaultValue === 'CURRENT_TIMESTAMP' ? receivedAt : column.defaultValue;
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value;
  if (column.type === 'json' || typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

export function planTable(cfg: SqlModuleConfig, dialect: SqlDialect): TablePlan {
  const q = (id: string): string => dialect.quote(id);
  const table = q(identifier(cfg.table, '/module-config/table', dialect));
  const mode = cfg.storage_mode;
  const fields = cfg.schema.fields ?? {};
  const columns: Column[] = [];
  const constraints = new Map<string, readonly string[]>();
  const seen = new Set<string>();
  for (const [field, def] of Object.entries(fields)) {
    const pointer = `/module-config/schema/fields/${seg(field)}`;
    const name = identifier(def.column ?? field, def.column === undefined ? pointer : `${pointer}/column`, dialect);
    const lower = name.toLowerCase();
    if (BASE_COLUMN_NAMES.has(lower)) throw new ConfigError(pointer, `column "${name}" is one of the table's own columns (${[...BASE_COLUMN_NAMES].join(', ')})`);
    if (seen.has(lower)) throw new ConfigError(pointer, `column "${name}" is mapped twice`);
    seen.add(lower);
    columns.push({ field, name, type: def.type, defaultValue: def.default });
    constraints.set(name, def.constraints);
  }
  if (mode === 'relational' && columns.length === 0) throw new ConfigError('/module-config/schema/fields', 'relational storage needs at least one field');
  const fieldColumns = mode === 'json' ? [] : columns;

  const ddl: string[] = [];
  if (cfg.create_table) {
    const defs = [...dialect.baseColumns(mode, cfg.include_headers), ...fieldColumns.map((c) => [q(c.name), dialect.columnType(c.type), ...(constraints.get(c.name) ?? [])].join(' '))];
    ddl.push(`CREATE TABLE IF NOT EXISTS ${table} (${defs.join(', ')})`);
    if (mode === 'json' && cfg.upsert && dialect.payloadIndex) ddl.push(dialect.payloadIndex(cfg.table, table));
    for (const [name, index] of Object.entries(cfg.schema.indexes ?? {})) {
      const pointer = `/module-config/schema/indexes/${seg(name)}`;
      const cols = index.columns.map((c, i) => q(identifier(c, `${pointer}/columns/${i}`, dialect)));
      ddl.push(dialect.createIndex(q(identifier(name, pointer, dialect)), table, cols));
    }
  }

  // Columns and placeholders are fixed per config; only the values change per delivery.
  const names = mode === 'json' ? ['webhook_id', 'timestamp', 'payload', 'headers'] : ['webhook_id', ...(mode === 'hybrid' ? ['payload', ...(cfg.include_headers ? ['headers'] : [])] : []), ...fieldColumns.map((c) => c.name)];
  const keyColumn = mode !== 'json' && cfg.upsert && Object.hasOwn(fields, cfg.upsert_key) ? fieldColumns.find((c) => c.field === cfg.upsert_key)?.name : undefined;
  const upsert = keyColumn ? ` ${dialect.upsert(q(keyColumn), names.filter((n) => n !== 'webhook_id').map(q))}` : '';
  const head = `INSERT INTO ${table} (${names.map(q).join(', ')}) VALUES `;
  const tuple = (row: number): string => `(${names.map((_, i) => dialect.placeholder(row * names.length + i + 1)).join(', ')})`;
  const statements = new Map<number, string>();
  const sqlFor = (rows: number): string => {
    let sql = statements.get(rows);
    if (sql === undefined) {
      sql = `${head}${Array.from({ length: rows }, (_, r) => tuple(r)).join(', ')}${upsert}`;
      // Batch sizes seen under load stay small (≤ the callers in flight); the cap keeps a burst from growing the cache.
      if (statements.size < 256) statements.set(rows, sql);
    }
    return sql;
  };
  const sql = sqlFor(1);

  return {
    ddl,
    sql: sqlFor,
    paramsPerRow: names.length,
    insert(delivery) {
      const receivedAt = new Date(delivery.receivedAt);
      const payloadJson = JSON.stringify(jsonSafePayload(delivery)) ?? 'null';
      const headersJson = JSON.stringify(delivery.headers);
      const params: SqlValue[] =
        mode === 'json'
          ? [delivery.webhookId, receivedAt, payloadJson, cfg.include_headers ? headersJson : null]
          : [delivery.webhookId, ...(mode === 'hybrid' ? [payloadJson, ...(cfg.include_headers ? [headersJson] : [])] : []), ...fieldColumns.map((c) => columnValue(c, delivery.payload, receivedAt))];
      return { sql, params };
    },
  };
}

/** A postgresql / mysql output: the dialect is all that differs. */
export function defineSqlOutput(d: { name: string; aliases: readonly string[]; connection: ConnectionType<SqlClient>; dialect: SqlDialect }): OutputModule {
  return defineOutput({
    name: d.name,
    aliases: d.aliases,
    connectionTypes: [d.connection],
    schema: sqlModuleConfigSchema,
    bind(cfg, spec, ctx) {
      const plan = planTable(cfg, d.dialect);
      // One CREATE per connection client (a retargeted connection may be another database); retried after a failure.
      let created: { generation: number; done: Promise<void> } | undefined;
      const ensureTable = (generation: number, client: SqlClient, signal: AbortSignal): Promise<void> => {
        if (plan.ddl.length === 0) return Promise.resolve();
        if (created?.generation !== generation) {
          const done = (async () => {
            for (const statement of plan.ddl) await client.execute(statement, [], signal);
          })();
          const entry = { generation, done };
          created = entry;
          done.catch((err: unknown) => {
            if (created === entry) created = undefined;
            ctx.logger.warn({ table: cfg.table, reason: err instanceof Error ? err.message : String(err) }, `${d.name}: creating the table failed; retried at the next delivery`);
          });
        }
        return created.done;
      };
      // One batcher per connection client: a retargeted connection gets its own (WeakMap: the old one goes with its client).
      const batchers = new WeakMap<SqlClient, InsertBatcher>();
      const batcherOf = (client: SqlClient): InsertBatcher => {
        let b = batchers.get(client);
        if (!b) batchers.set(client, (b = new InsertBatcher(client, plan, client.maxConcurrency, plan.paramsPerRow)));
        return b;
      };
      return {
        async send(delivery, signal) {
          const conn = await ctx.connections.ready(spec.connection, d.connection);
          await conn.use(async () => {
            await ensureTable(conn.generation, conn.client, signal);
            await batcherOf(conn.client).insert(plan.insert(delivery).params, signal);
          });
        },
        close: nothingToClose,
      };
    },
  });
}
