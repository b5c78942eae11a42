/**
 * `mysql` (CWM also writes `mariadb`): one row per delivery in CWM's table
 * layout through a prepared statement, acknowledged once the (autocommit)
 * INSERT holding it committed; concurrent deliveries share multi-row INSERTs
 * (sql-batch.ts). DDL (create_table, at the first delivery): see docs/outputs.md.
 * Tested against MariaDB 10.11; `CREATE INDEX IF NOT EXISTS` (schema.indexes)
 * is MariaDB syntax that MySQL 8 lacks.
 */
import { mysqlConnection } from '../connections/mysql.js';
import { defineSqlOutput, type FieldType } from './sql-table.js';

const TYPES: ReadonlyMap<FieldType, string> = new Map([
  ['string', 'TEXT'], ['text', 'TEXT'], ['integer', 'BIGINT'], ['int', 'BIGINT'], ['float', 'DOUBLE'], ['number', 'DOUBLE'],
  ['boolean', 'BOOLEAN'], ['bool', 'BOOLEAN'], ['datetime', 'DATETIME'], ['timestamp', 'DATETIME'],
  ['json', 'JSON'], ['date', 'DATE'], ['time', 'TIME'],
]);

const ID = 'id CHAR(36) PRIMARY KEY DEFAULT (UUID())';
const CREATED = 'created_at DATETIME DEFAULT CURRENT_TIMESTAMP';

export const mysqlOutput = defineSqlOutput({
  name: 'mysql',
  aliases: ['mariadb'],
  connection: mysqlConnection,
  dialect: {
    maxIdentifier: 64,
    quote: (id) => `\`${id.replace(/`/g, '``')}\``,
    placeholder: () => '?',
    columnType: (type) => TYPES.get(type) ?? 'TEXT',
    baseColumns(mode, includeHeaders) {
      if (mode === 'json') return [ID, 'webhook_id TEXT NOT NULL', '`timestamp` DATETIME DEFAULT CURRENT_TIMESTAMP', 'payload JSON NOT NULL', 'headers JSON', CREATED];
      if (mode === 'relational') return [ID, 'webhook_id TEXT NOT NULL', CREATED];
      return [ID, 'webhook_id TEXT NOT NULL', 'payload JSON NOT NULL', CREATED, ...(includeHeaders ? ['headers JSON'] : [])];
    },
    upsert: (_key, columns) => `ON DUPLICATE KEY UPDATE ${columns.map((c) => `${c} = VALUES(${c})`).join(', ')}`,
    createIndex: (name, table, columns) => `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${columns.join(', ')})`,
  },
});
