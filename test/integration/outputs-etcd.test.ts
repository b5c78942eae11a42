/**
 * Connections live in etcd: a connection retargeted with `etcdctl put` moves
 * the next delivery to the new Redis (nothing acknowledged is lost while
 * traffic flows), a deleted one answers 503 until it is back, an invalid
 * value keeps the previous client.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { waitForStatus } from '../helpers/cwm-http.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTraffic } from '../helpers/traffic.js';

const CONN_KEY = '/cwm/global/connections/redis_main';
let etcd: EtcdCluster;
let first: RedisServer;
let second: RedisServer;
let cwm: CwmProcess;

before(async () => {
  [etcd, first, second] = await Promise.all([startEtcd(1), startRedis(), startRedis()]);
  await etcd.ctl('put', CONN_KEY, JSON.stringify({ type: 'redis', url: first.url }));
  await etcd.ctl('put', '/cwm/team/webhooks/q', JSON.stringify({ module: 'redis_queue', connection: 'redis_main', 'module-config': { queue_name: 'eq' } }));
  cwm = await startCwm({ CONFIG_BACKEND: 'etcd', ETCD_ENDPOINTS: etcd.endpoints.join(','), OUTPUT_TIMEOUT_MS: '1000' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await Promise.all([etcd.destroy(), first.destroy(), second.destroy()]);
});

async function jobIds(server: RedisServer): Promise<Set<string>> {
  const client = new Redis(server.url);
  const queue = new Queue('eq', { connection: client });
  try {
    return new Set((await queue.getJobs(['waiting'], 0, -1)).map((j) => (j.data as { meta: { delivery_id: string } }).meta.delivery_id));
  } finally {
    await queue.close();
    client.disconnect();
  }
}

const post = (id: string): Promise<Response> => cwm.post('/webhook/team/q', { id }, { 'x-github-delivery': id });

test('retargeted in etcd mid-traffic: the next delivery lands in the new Redis; nothing acknowledged is lost', async (t: TestContext) => {
  assert.equal((await post('before-1')).status, 200);
  assert.ok((await jobIds(first)).has('before-1'));
  const traffic = startTraffic(post, { concurrency: 4, prefix: 'etcd-rt' });
  try {
    await waitFor(() => traffic.outcomes.filter((o) => o.status === 200).length >= 50, 10_000, 'traffic flowing');
    const swaps = (): number => cwm.logs.filter((l) => l.connection === 'redis_main' && String(l.msg).startsWith('connection changed')).length;
    await etcd.ctl('put', CONN_KEY, JSON.stringify({ type: 'redis', url: second.url }));
    await waitFor(() => swaps() === 1, 5000, 'new client swapped in');
    assert.equal((await post('after-1')).status, 200);
    await waitFor(() => traffic.outcomes.filter((o) => o.status === 200).length >= 150, 10_000, 'traffic continues');
  } finally {
    await traffic.stop();
  }
  const [a, b] = await Promise.all([jobIds(first), jobIds(second)]);
  assert.ok(b.has('after-1') && !a.has('after-1'), 'the delivery after the change is in the new Redis only');
  const acked = traffic.outcomes.filter((o) => o.status === 200).map((o) => o.id);
  const lost = acked.filter((id) => !a.has(id) && !b.has(id));
  assert.deepEqual(lost, [], 'acknowledged then lost');
  assert.deepEqual(traffic.outcomes.filter((o) => o.status !== 200).map((o) => `${o.id}:${o.status}`), [], 'no 503 while the new client was connecting');
  t.diagnostic(`etcd retarget: sent=${traffic.outcomes.length} acked=${acked.length} inOld=${acked.filter((id) => a.has(id)).length} inNew=${acked.filter((id) => b.has(id)).length} lost=${lost.length}`);
});

test('an invalid connection value keeps the previous client; deleted → 503 + Retry-After; put back → 200', async () => {
  await etcd.ctl('put', CONN_KEY, JSON.stringify({ type: 'memcached', host: 'x' }));
  await waitFor(() => cwm.logs.some((l) => l.key === CONN_KEY && String(l.msg).startsWith('invalid config entry ignored')), 5000, 'invalid value logged');
  assert.equal((await post('still-1')).status, 200);
  assert.ok((await jobIds(second)).has('still-1'));

  await etcd.ctl('del', CONN_KEY);
  await waitForStatus(cwm, '/webhook/team/q', 503);
  const res = await post('gone-1');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '5');
  // The log line travels through a pipe and may arrive after the HTTP answer: poll for it.
  await waitFor(() => cwm.logs.some((l) => l.connection === 'redis_main' && l.webhook_id === 'q' && String(l.msg).startsWith('connection removed')), 5000, 'logged once per change');

  await etcd.ctl('put', CONN_KEY, JSON.stringify({ type: 'redis-rq', url: first.url }));
  await waitFor(async () => (await post('gone-1')).status === 200, 5000, 'served again');
  assert.ok((await jobIds(first)).has('gone-1'), 'the retried delivery landed once it was back');
});
