/**
 * `postgresql` (CWM also writes `postgres`): one row per delivery in CWM's
 * table layout, acknowledged once the (autocommit) INSERT holding it
 * committed; concurrent deliveries share multi-row INSERTs (sql-batch.ts).
 * DDL (create_table, at the first delivery): see docs/outputs.md.
 */
import { postgresqlConnection } from '../connections/postgresql.js';
import { defineSqlOutput, type FieldType } from './sql-table.js';

const TYPES: ReadonlyMap<FieldType, string> = new Map([
  ['string', 'TEXT'], ['text', 'TEXT'], ['integer', 'BIGINT'], ['int', 'BIGINT'], ['float', 'DOUBLE PRECISION'], ['number', 'DOUBLE PRECISION'],
  ['boolean', 'BOOLEAN'], ['bool', 'BOOLEAN'], ['datetime', 'TIMESTAMP WITH TIME ZONE'], ['timestamp', 'TIMESTAMP WITH TIME ZONE'],
  ['json', 'JSONB'], ['date', 'DATE'], ['time', 'TIME'],
]);

const ID = 'id UUID PRIMARY KEY DEFAULT gen_random_uuid()';
const CREATED = 'created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP';

export const postgresqlOutput = defineSqlOutput({
  name: 'postgresql',
  aliases: ['postgres'],
  connection: postgresqlConnection,
  dialect: {
    maxIdentifier: 63,
    quote: (id) => `"${id.replace(/"/g, '""')}"`,
    placeholder: (n) => `$${n}`,
    columnType: (type) => TYPES.get(type) ?? 'TEXT',
    baseColumns(mode, includeHeaders) {
      if (mode === 'json') return [ID, 'webhook_id TEXT NOT NULL', '"timestamp" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP', 'payload JSONB NOT NULL', 'headers JSONB', CREATED];
      if (mode === 'relational') return [ID, 'webhook_id TEXT NOT NULL', CREATED];
      return [ID, 'webhook_id TEXT NOT NULL', 'payload JSONB NOT NULL', CREATED, ...(includeHeaders ? ['headers JSONB'] : [])];
    },
    upsert: (key, columns) => `ON CONFLICT (${key}) DO UPDATE SET ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
    payloadIndex: (table, quotedTable) => `CREATE INDEX IF NOT EXISTS "${`${table}_payload_gin`.slice(0, 63)}" ON ${quotedTable} USING GIN (payload)`,
    createIndex: (name, table, columns) => `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${columns.join(', ')})`,
  },
});
