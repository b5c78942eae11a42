/**
 * A changed spool connection applies without a restart: cwm (file backend,
 * real Redis servers) is pointed from one spool Redis to another while a
 * delivery still waits in the first (its destination is down). New
 * deliveries go to the new spool and are delivered from it; the one left in
 * the old spool is still delivered by the old worker, which then closes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let spool1: RedisServer;
let spool2: RedisServer;
let dest: RedisServer;
let dir: ConfigDir;
let cwm: CwmProcess;

const connections = (spoolUrl: string): Record<string, unknown> => ({ spool: { type: 'redis', url: spoolUrl }, dest: { type: 'redis', url: dest.url } });

function writeConnections(spoolUrl: string): void {
  // Written then renamed, as deploy tools do.
  writeFileSync(join(dir.path, 'connections.tmp'), JSON.stringify(connections(spoolUrl)));
  renameSync(join(dir.path, 'connections.tmp'), join(dir.path, 'connections.json'));
}

async function delivered(): Promise<Set<string>> {
  const client = new Redis(dest.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    return new Set((await client.xrange('out', '-', '+')).map(([, fields]) => fields[fields.indexOf('delivery_id') + 1] ?? ''));
  } catch {
    return new Set();
  } finally {
    client.disconnect();
  }
}

async function jobIn(server: RedisServer, jobId: string): Promise<boolean> {
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  const queue = new Queue('deliveries', { connection: client, prefix: 'cwm-spool' });
  try {
    return (await queue.getJob(jobId)) !== undefined;
  } finally {
    await queue.close();
    client.disconnect();
  }
}

before(async () => {
  [spool1, spool2, dest] = await Promise.all([startRedis(), startRedis(), startRedis({ durable: true })]);
  dir = configDirWith(
    { hook: { module: 'redis_stream', connection: 'dest', 'module-config': { stream: 'out', include_headers: false }, retry: { enabled: true, max_attempts: 20, initial_delay: 0.2, max_delay: 0.5 } } },
    connections(spool1.url),
  );
  cwm = await startCwm({ CONFIG_DIR: dir.path, SPOOL_CONNECTION: 'spool', OUTPUT_TIMEOUT_MS: '1000', LOG_LEVEL: 'info' });
});

after(async () => {
  await cwm.stop('SIGKILL');
  await Promise.all([spool1.destroy(), spool2.destroy(), dest.destroy()]);
  dir.remove();
});

test('a spool connection pointed at another Redis: new deliveries spool and deliver there, the old spool drains, no restart', async () => {
  const post = async (id: string): Promise<string> => {
    const res = await cwm.post('/webhook/hook', { id }, { 'x-delivery-id': id });
    const body = (await res.json()) as { spool_id: string };
    assert.equal(res.status, 202, JSON.stringify(body));
    return body.spool_id;
  };
  const before1 = await post('before-1');
  await waitFor(async () => (await delivered()).has('before-1'), 15_000, 'first delivery', 100);
  // One delivery left waiting in the old spool: its destination is down, so it is retried with backoff.
  await dest.kill();
  const stuck = await post('stuck-in-old');
  assert.ok(await jobIn(spool1, stuck));
  writeConnections(spool2.url);
  await waitFor(() => cwm.logs.some((l) => l.msg === 'spool connection changed; a worker starts on the new Redis, the old one drains what waits in the old spool'), 15_000, 'worker moved to the new spool', 50);
  const after1 = await post('after-1');
  assert.ok(await jobIn(spool2, after1), 'a new delivery is spooled in the new Redis');
  assert.equal(await jobIn(spool1, after1), false, 'and not in the old one');
  await dest.restart();
  await waitFor(async () => {
    const seen = await delivered();
    return seen.has('after-1') && seen.has('stuck-in-old');
  }, 30_000, 'the new delivery (new spool) and the one left in the old spool', 100);
  await waitFor(() => cwm.logs.some((l) => l.msg === 'old spool drained; its worker closed'), 15_000, 'old worker closed once drained', 50);
  assert.ok(await jobIn(spool1, before1), 'the old spool still holds its completed jobs (kept a day for sender retries)');
});
