/** postgresql / mysql module-config and connection configs judged as the receiver judges them; the SQL they plan, with hostile names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeConfig } from '../../src/config/judge.js';
import { validateConfig } from '../../src/config/validation.js';
import { isMysqlConnectionError } from '../../src/connections/mysql.js';
import { isPgConnectionError } from '../../src/connections/postgresql.js';
import type { Delivery } from '../../src/delivery/types.js';
import { planTable, sqlModuleConfigSchema, type SqlModuleConfig } from '../../src/outputs/sql-table.js';
import { postgresqlOutput } from '../../src/outputs/postgresql.js';

const env = { envAllowlist: /^CWM_/, env: {} };

function errors(config: Record<string, unknown>): string[] {
  return judgeConfig('webhook', config, env);
}

function refused(config: Record<string, unknown>, message: RegExp): void {
  const found = errors(config);
  assert.ok(found.some((e) => message.test(e)), `${JSON.stringify(config)} → ${message}; got ${JSON.stringify(found)}`);
}

test('hostile table, column and index names are refused at config time, with a pointer', () => {
  for (const module of ['postgresql', 'postgres', 'mysql', 'mariadb']) {
    refused({ module, connection: 'db', 'module-config': { table: 'x"; DROP TABLE y; --' } }, /^\/module-config\/table must be a plain SQL identifier/);
    refused({ module, connection: 'db', 'module-config': { table: 'x`; DROP TABLE y; --' } }, /^\/module-config\/table must be a plain SQL identifier/);
    refused({ module, connection: 'db', 'module-config': { table: 'public.events' } }, /^\/module-config\/table must be a plain SQL identifier/);
    refused({ module, connection: 'db', 'module-config': { table: 'a'.repeat(65) } }, /^\/module-config\/table must be a plain SQL identifier/);
    refused({ module, connection: 'db', 'module-config': { storage_mode: 'relational', schema: { fields: { a: { column: 'a" TEXT); DROP TABLE y; --' } } } } }, /^\/module-config\/schema\/fields\/a\/column must be a plain SQL identifier/);
    refused({ module, connection: 'db', 'module-config': { storage_mode: 'relational', schema: { fields: { 'we/ird key': {} } } } }, /^\/module-config\/schema\/fields\/we~1ird key must be a plain SQL identifier/);
    refused({ module, connection: 'db', 'module-config': { storage_mode: 'hybrid', schema: { fields: { a: {} }, indexes: { 'i; --': { columns: ['a'] } } } } }, /^\/module-config\/schema\/indexes\/i; -- must be a plain SQL identifier/);
    refused({ module, connection: 'db', 'module-config': { storage_mode: 'hybrid', schema: { fields: { a: {} }, indexes: { i: { columns: ['a)--'] } } } } }, /^\/module-config\/schema\/indexes\/i\/columns\/0 must be a plain SQL identifier/);
  }
});

test('module-config: CWM fields and defaults; what cwm refuses that CWM let through', () => {
  refused({ module: 'postgresql', 'module-config': {} }, /required property 'connection'/);
  refused({ module: 'postgresql', connection: 'db', 'module-config': { storage_mode: 'columns' } }, /^\/module-config\/storage_mode must be equal to one of the allowed values/);
  refused({ module: 'postgresql', connection: 'db', 'module-config': { storage_mode: 'relational' } }, /^\/module-config\/schema\/fields relational storage needs at least one field/);
  refused({ module: 'mysql', connection: 'db', 'module-config': { schema: 'analytics' } }, /^\/module-config\/schema must be object/);
  refused({ module: 'mysql', connection: 'db', 'module-config': { storage_mode: 'hybrid', schema: { fields: { payload: {} } } } }, /^\/module-config\/schema\/fields\/payload column "payload" is one of the table's own columns/);
  refused({ module: 'mysql', connection: 'db', 'module-config': { storage_mode: 'hybrid', schema: { fields: { a: { column: 'x' }, b: { column: 'X' } } } } }, /^\/module-config\/schema\/fields\/b column "X" is mapped twice/);
  refused({ module: 'mysql', connection: 'db', 'module-config': { storage_mode: 'hybrid', schema: { fields: { a: { type: 'money' } } } } }, /^\/module-config\/schema\/fields\/a\/type must be equal to one of the allowed values/);
  refused({ module: 'mysql', connection: 'db', 'module-config': { storage_mode: 'hybrid', schema: { fields: { a: { constraints: ['PRIMARY KEY'] } } } } }, /constraints\/0 must be equal to one of the allowed values/);
  // CWM's documented configs pass as they are.
  assert.deepEqual(errors({ module: 'postgresql', connection: 'postgres_local', 'module-config': { table: 'webhook_events', storage_mode: 'json', upsert: false, upsert_key: 'event_id', include_headers: true, include_timestamp: true } }), []);
  assert.deepEqual(errors({ module: 'mysql', connection: 'mysql_local', 'module-config': { table: 'webhook_events', storage_mode: 'json', upsert: true, upsert_key: 'event_id', include_headers: true } }), []);
  const cfg: Record<string, unknown> = {};
  assert.deepEqual(validateConfig('webhook', { module: 'postgres', connection: 'db', 'module-config': cfg }), []);
  assert.deepEqual(cfg, { table: 'webhook_events', storage_mode: 'json', upsert: false, upsert_key: 'id', include_headers: true, include_timestamp: true, create_table: true, schema: {} });
  assert.equal(postgresqlOutput.schema, sqlModuleConfigSchema);
});

test("CWM's postgresql and mysql connection configs from its docs and examples are accepted (ports as strings from placeholders coerced)", () => {
  // Copied from CWM's config/examples/connections.example.json, docker-compose and docusaurus docs.
  const sql: [string, Record<string, unknown>][] = [
    ['postgres_local', { type: 'postgresql', host: 'localhost', port: 5432, database: 'webhook_db', user: 'postgres', password: '', pool_min_size: 2, pool_max_size: 10, ssl: false }],
    ['postgres_prod', { type: 'postgresql', host: '{$POSTGRES_HOST}', port: '{$POSTGRES_PORT:5432}', database: '{$POSTGRES_DATABASE:webhook_db}', user: '{$POSTGRES_USER:postgres}', password: '{$POSTGRES_PASSWORD}', pool_min_size: 2, pool_max_size: 10, ssl: true, ssl_ca_cert: '{$POSTGRES_SSL_CA_CERT:}', ssl_cert: '{$POSTGRES_SSL_CERT:}', ssl_key: '{$POSTGRES_SSL_KEY:}' }],
    ['postgres_connection_string', { type: 'postgresql', connection_string: '{$POSTGRES_CONNECTION_STRING:postgresql://user:pass@host:5432/db}' }],
    ['mysql_local', { type: 'mysql', host: 'localhost', port: 3306, database: 'webhook_db', user: 'root', password: '', pool_min_size: 2, pool_max_size: 10, ssl: false }],
    ['mysql_prod', { type: 'mysql', host: '{$MYSQL_HOST}', port: '{$MYSQL_PORT:3306}', database: '{$MYSQL_DATABASE:webhook_db}', user: '{$MYSQL_USER:root}', password: '{$MYSQL_PASSWORD}', pool_min_size: 2, pool_max_size: 10, ssl: true, ssl_ca_cert: '{$MYSQL_SSL_CA_CERT:}', ssl_cert: '{$MYSQL_SSL_CERT:}', ssl_key: '{$MYSQL_SSL_KEY:}' }],
    ['compose_mysql', { type: 'mysql', host: 'mysql', port: 3306, database: 'webhook_test', user: 'webhook_user', password: 'webhook_pass' }],
    ['docs_postgres', { type: 'postgresql', host: 'localhost', port: 5432, database: 'webhooks', user: 'postgres', password: 'password', ssl: false, pool_min_size: 2, pool_max_size: 10 }],
  ];
  for (const [name, config] of sql) {
    // {$VAR:default} placeholders resolved to their defaults, or to a value as an operator would set it.
    const resolved = JSON.parse(JSON.stringify(config).replace(/\{\$[A-Za-z_:/#]+?:([^}]*)\}/g, '$1').replace(/\{\$[^}]+\}/g, 'db.example.com')) as Record<string, unknown>;
    assert.deepEqual(validateConfig('connection', resolved), [], name);
  }
  const coerced: Record<string, unknown> = { type: 'postgresql', host: 'db', port: '5433', pool_max_size: '4' };
  assert.deepEqual(validateConfig('connection', coerced), []);
  assert.equal(coerced.port, 5433);
  for (const bad of [{ type: 'postgresql', port: 70000 }, { type: 'postgresql', connection_string: 'mysql://x' }, { type: 'mysql', hots: 'x' }, { type: 'mariadb', pool_max_size: 0 }]) {
    assert.notDeepEqual(validateConfig('connection', bad), [], JSON.stringify(bad));
  }
});

function delivery(payload: unknown): Delivery {
  return { id: 'd1', namespace: 'ns', webhookId: 'w', receivedAt: Date.UTC(2026, 0, 1), headers: { 'x-a': '1' }, payload, rawBody: Buffer.from(JSON.stringify(payload)), contentType: 'application/json' };
}

function pgPlan(mc: Record<string, unknown>): ReturnType<typeof planTable> {
  const value: Record<string, unknown> = { module: 'postgresql', connection: 'db', 'module-config': mc };
  assert.deepEqual(validateConfig('webhook', value), []);
  // validateConfig filled the defaults into mc: it is a SqlModuleConfig now.
  const filled: SqlModuleConfig = mc as SqlModuleConfig;
  const dialect = { maxIdentifier: 63, quote: (id: string) => `"${id.replace(/"/g, '""')}"`, placeholder: (n: number) => `$${n}`, columnType: () => 'TEXT', baseColumns: () => ['id UUID'], upsert: (k: string, cols: readonly string[]) => `ON CONFLICT (${k}) DO UPDATE SET ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`, createIndex: (n: string, t: string, c: readonly string[]) => `CREATE INDEX ${n} ON ${t} (${c.join(', ')})` };
  return planTable(filled, dialect);
}

test('planned SQL: quoted identifiers, values only as parameters, __proto__ an ordinary key and column', () => {
  const json = pgPlan({ table: 't' });
  const j = json.insert(delivery({ a: "'; DROP TABLE t; --" }));
  assert.equal(j.sql, 'INSERT INTO "t" ("webhook_id", "timestamp", "payload", "headers") VALUES ($1, $2, $3, $4)');
  assert.deepEqual(j.params, ['w', new Date(Date.UTC(2026, 0, 1)), JSON.stringify({ a: "'; DROP TABLE t; --" }), '{"x-a":"1"}']);
  assert.match(json.ddl[0] ?? '', /^CREATE TABLE IF NOT EXISTS "t" \(/);

  const rel = pgPlan({ table: 't', storage_mode: 'relational', upsert: true, upsert_key: 'event_id', schema: JSON.parse('{"fields":{"event_id":{"constraints":["UNIQUE"]},"__proto__":{"type":"json"},"n":{"column":"amount","type":"integer","default":0}}}') as unknown });
  const payload = JSON.parse('{"event_id":"e1","__proto__":{"x":1},"constructor":"c"}') as unknown;
  const r = rel.insert(delivery(payload));
  assert.equal(r.sql, 'INSERT INTO "t" ("webhook_id", "event_id", "__proto__", "amount") VALUES ($1, $2, $3, $4) ON CONFLICT ("event_id") DO UPDATE SET "event_id" = EXCLUDED."event_id", "__proto__" = EXCLUDED."__proto__", "amount" = EXCLUDED."amount"');
  assert.deepEqual(r.params, ['w', 'e1', '{"x":1}', 0]);
  // A batch of rows: one tuple per row, parameters numbered on, the upsert clause once at the end.
  assert.equal(rel.sql(2), 'INSERT INTO "t" ("webhook_id", "event_id", "__proto__", "amount") VALUES ($1, $2, $3, $4), ($5, $6, $7, $8) ON CONFLICT ("event_id") DO UPDATE SET "event_id" = EXCLUDED."event_id", "__proto__" = EXCLUDED."__proto__", "amount" = EXCLUDED."amount"');
  assert.equal(rel.sql(1), r.sql);
  assert.equal(rel.paramsPerRow, 4);
  assert.match(rel.ddl[0] ?? '', /"event_id" TEXT UNIQUE, "__proto__" TEXT, "amount" TEXT\)$/);
  // A payload without an own __proto__ key: nothing is read from Object.prototype.
  assert.deepEqual(rel.insert(delivery({ event_id: 'e2' })).params, ['w', 'e2', null, 0]);
  assert.deepEqual(rel.insert(delivery([1, 2])).params, ['w', null, null, 0]);

  const hybrid = pgPlan({ table: 't', storage_mode: 'hybrid', include_headers: false, create_table: false, schema: { fields: { at: { type: 'datetime', default: 'CURRENT_TIMESTAMP' } } } });
  assert.deepEqual(hybrid.ddl, []);
  const h = hybrid.insert(delivery({}));
  assert.equal(h.sql, 'INSERT INTO "t" ("webhook_id", "payload", "at") VALUES ($1, $2, $3)');
  assert.deepEqual(h.params, ['w', '{}', new Date(Date.UTC(2026, 0, 1))]);
});

test('connection-level errors (503 and fail fast) are told from statement errors', () => {
  assert.ok(isPgConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
  assert.ok(isPgConnectionError(new Error('Connection terminated unexpectedly')));
  assert.ok(isPgConnectionError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })));
  assert.ok(!isPgConnectionError(Object.assign(new Error('invalid input syntax for type bigint'), { code: '22P02' })));
  assert.ok(isMysqlConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
  assert.ok(isMysqlConnectionError(Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true })));
  assert.ok(!isMysqlConnectionError(Object.assign(new Error('dup'), { code: 'ER_DUP_ENTRY' })));
});
