/**
 * A PostgreSQL 15 cluster of the run's own (initdb on a free port, fsync on)
 * killed with SIGKILL under a postgresql webhook's load, then restarted on the
 * same port and data dir: crash recovery replays the WAL, so every INSERT that
 * committed (and only those were answered 2xx) is a row again.
 */
import pg from 'pg';
import { startPostgres } from '../../../test/helpers/sql-servers.js';
import type { Counts } from '../destinations.js';
import { countIds } from '../tally.js';
import { brokerOutage } from './broker-outage.js';

const TABLE = 'chaos';

/** The sender's `delivery` field of every row's payload, read with a client of the run's own. */
async function postgresDeliveries(port: number): Promise<Counts> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string | null }>(`SELECT payload->>'delivery' AS id FROM ${TABLE}`);
    return countIds(rows.map((r) => r.id ?? ''));
  } finally {
    await client.end();
  }
}

export const postgresqlKill = brokerOutage('postgresql-kill', 'PostgreSQL killed mid-load and restarted (postgresql webhook, a row per delivery)', async () => {
  const server = await startPostgres();
  return {
    connection: { type: 'postgresql', host: '127.0.0.1', port: server.port, database: 'postgres', user: 'postgres', password: '' },
    webhook: { module: 'postgresql', 'module-config': { table: TABLE } },
    destination: `PostgreSQL table "${TABLE}"`,
    fail: () => server.kill('SIGKILL').then(() => 'PostgreSQL SIGKILLed'),
    recover: () => server.restart().then(() => 'PostgreSQL restarted (WAL replayed)'),
    read: () => postgresDeliveries(server.port),
    duplicatesNote: 'an INSERT that committed after cwm gave up on it (503) is a second row once the sender retries: rows carry the delivery id (headers, payload) for consumers to dedupe',
    destroy: () => server.destroy(),
  };
});
