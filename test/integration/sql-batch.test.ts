/**
 * InsertBatcher against a PostgreSQL of the test's own, through cwm's own pg
 * connection client: rows arriving while a statement runs go out together in
 * the next one (one transaction), a row whose deadline passes while it waits
 * is never written, and every resolved insert is a committed row.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pino } from 'pino';
import { postgresqlConnection } from '../../src/connections/postgresql.js';
import { UnavailableError } from '../../src/errors.js';
import { InsertBatcher } from '../../src/outputs/sql-batch.js';
import { startPostgres, type SqlServer } from '../helpers/sql-servers.js';

let server: SqlServer;
let live: ReturnType<typeof postgresqlConnection.create>;
let reader: pg.Client;

before(async () => {
  server = await startPostgres();
  live = postgresqlConnection.create({ host: '127.0.0.1', port: server.port, database: 'postgres', user: 'postgres', ssl: false, pool_min_size: 0, pool_max_size: 4 }, { name: 'batch', logger: pino({ level: 'silent' }), timeoutMs: 5000 });
  assert.ok(await live.ready());
  await live.client.execute('CREATE TABLE rows (v TEXT NOT NULL)', []);
  reader = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await reader.connect();
});

after(async () => {
  await reader?.end();
  await live?.close();
  await server?.destroy();
});

/** `INSERT … SELECT` of n values; a statement whose first value is "slow" holds its slot for 300 ms first. */
const statement = {
  sql: (n: number): string => `INSERT INTO rows (v) SELECT v FROM (VALUES ${Array.from({ length: n }, (_, i) => `($${i + 1}::text)`).join(', ')}) AS x(v) WHERE CASE WHEN v = 'slow' THEN pg_sleep(0.3) IS NOT NULL ELSE true END`,
};

test('rows waiting behind a running statement share the next one; a row timed out while waiting is not written', async (t) => {
  const batcher = new InsertBatcher(live.client, statement, 1, 1);
  const slow = batcher.insert(['slow']);
  // Dispatched on the next turn: wait until the slow statement is on its way before queueing the rest.
  await new Promise((r) => setImmediate(r));
  const deadline = new AbortController();
  const late = batcher.insert(['late'], deadline.signal);
  const rest = ['a', 'b', 'c'].map((v) => batcher.insert([v]));
  const lateError = late.then(() => undefined, (err: unknown) => err);
  deadline.abort();
  assert.ok((await lateError) instanceof UnavailableError, 'the aborted row rejects at once');
  await Promise.all([slow, ...rest]);
  const { rows } = await reader.query<{ v: string; xmin: string }>('SELECT v, xmin::text AS xmin FROM rows ORDER BY v');
  assert.deepEqual(rows.map((r) => r.v), ['a', 'b', 'c', 'slow'], 'every resolved row committed; the timed-out one never written');
  const tx = new Set(rows.filter((r) => r.v !== 'slow').map((r) => r.xmin));
  t.diagnostic(`rows a, b, c in ${tx.size} transaction(s)`);
  assert.equal(tx.size, 1, 'the rows that waited went out in one statement');
});

test('a batch one row breaks is retried row by row: only that row fails, with the server error', async () => {
  await reader.query('TRUNCATE rows');
  const batcher = new InsertBatcher(live.client, statement, 1, 1);
  const slow = batcher.insert(['slow']);
  await new Promise((r) => setImmediate(r));
  const results = await Promise.allSettled([batcher.insert(['x']), batcher.insert([null]), batcher.insert(['y'])]);
  await slow;
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  const failed = results[1] as PromiseRejectedResult;
  assert.ok(!(failed.reason instanceof UnavailableError), 'a statement error, not "unavailable"');
  assert.match(String((failed.reason as Error).message), /null value/);
  const { rows } = await reader.query<{ v: string }>('SELECT v FROM rows ORDER BY v');
  assert.deepEqual(rows.map((r) => r.v), ['slow', 'x', 'y']);
});
