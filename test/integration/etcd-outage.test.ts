/**
 * etcd outages against real etcd and real cwm processes: etcd absent at
 * startup, etcd restarted while writes happen behind cwm's back, a
 * compaction past cwm's last revision while cwm is cut off, etcd restored
 * from an older backup, and a silent partition. A loopback TCP relay between
 * cwm and etcd stands in for the network.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { health, logged, metric, readyStatus, waitForLog, waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { LOG_HOOK, STRICT_HOOK, etcdEnv } from '../helpers/etcd-config.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

let etcd: EtcdCluster | undefined;
const procs: CwmProcess[] = [];
const proxies: TcpProxy[] = [];

async function cwmVia(endpoint: string, waitReady = true): Promise<CwmProcess> {
  const cwm = await startCwm(etcdEnv(endpoint), { waitReady });
  procs.push(cwm);
  return cwm;
}

async function cwmBehindProxy(cluster: EtcdCluster): Promise<{ cwm: CwmProcess; proxy: TcpProxy }> {
  const proxy = await startTcpProxy(Number(new URL(cluster.endpoints[0] as string).port));
  proxies.push(proxy);
  const cwm = await cwmVia(proxy.url);
  await waitForLog(cwm, 'etcd watch established');
  return { cwm, proxy };
}

async function waitEtcdState(cwm: CwmProcess, state: 'healthy' | 'disconnected', timeoutMs = 20_000): Promise<void> {
  const statuses = new Set<number>();
  await waitFor(async () => {
    const h = await health(cwm);
    statuses.add(h.status);
    return h.etcd === state;
  }, timeoutMs, `/health etcd ${state}`);
  assert.deepEqual([...statuses], [200], '/health stays 200 whatever etcd does');
}

/** The first test starts cwm before etcd exists: etcd will listen on this port, chosen beforehand. */
let etcdPort = 0;
let early: CwmProcess;

before(async () => {
  etcdPort = await freePort();
  early = await cwmVia(`http://127.0.0.1:${etcdPort}`, false);
  await waitForLog(early, 'etcd prefix read failed; retrying');
});

after(async () => {
  for (const cwm of procs) assert.equal(await cwm.stop(), 0);
  for (const p of proxies) await p.close();
  await etcd?.destroy();
});

test('etcd started after cwm: live but not ready, then ready and serving', async () => {
  const cwm = early;
  assert.deepEqual(await health(cwm), { status: 200, etcd: 'disconnected' });
  assert.equal(await readyStatus(cwm), 503);
  assert.equal(await webhookStatus(cwm, '/webhook/team/early'), 503, 'not ready: webhooks answer 503, not 404');

  etcd = await startEtcd(1, { clientPorts: [etcdPort] });
  await etcd.ctl('put', '/cwm/team/webhooks/early', LOG_HOOK);
  await cwm.waitReady(20_000);
  await waitForStatus(cwm, '/webhook/team/early', 200);
  await waitEtcdState(cwm, 'healthy');
  assert.equal(await metric(cwm, 'cwm_config_source_connected'), 1);
});

test('etcd restarted while writes happen behind cwm: cache serves meanwhile, the writes arrive after reconnect', async () => {
  const cluster = etcd as EtcdCluster;
  await cluster.ctl('put', '/cwm/team/webhooks/kept', LOG_HOOK);
  await cluster.ctl('put', '/cwm/team/webhooks/doomed', LOG_HOOK);
  const { cwm, proxy } = await cwmBehindProxy(cluster);
  assert.equal(await webhookStatus(cwm, '/webhook/team/doomed'), 200);
  const reconnectsBefore = await metric(cwm, 'cwm_etcd_watch_reconnects_total');

  await cluster.stopAll();
  await waitEtcdState(cwm, 'disconnected');
  assert.equal(await readyStatus(cwm), 200, 'stays ready: the cache is loaded');
  assert.equal(await webhookStatus(cwm, '/webhook/team/kept'), 200, 'cached webhooks keep serving while etcd is down');
  assert.equal(await metric(cwm, 'cwm_config_source_connected'), 0);

  // etcd comes back with its data, but cwm stays cut off while others write.
  proxy.cut();
  await cluster.startAll();
  await cluster.ctl('put', '/cwm/team/webhooks/added', LOG_HOOK);
  await cluster.ctl('put', '/cwm/team/webhooks/kept', STRICT_HOOK);
  await cluster.ctl('del', '/cwm/team/webhooks/doomed');
  assert.equal(await webhookStatus(cwm, '/webhook/team/added'), 404, 'cut off: not seen yet');
  assert.equal((await health(cwm)).etcd, 'disconnected');

  proxy.resume();
  await waitForStatus(cwm, '/webhook/team/added', 200);
  await waitForStatus(cwm, '/webhook/team/kept', 422);
  await waitForStatus(cwm, '/webhook/team/doomed', 404);
  await waitEtcdState(cwm, 'healthy');
  assert.ok((await metric(cwm, 'cwm_etcd_watch_reconnects_total')) > reconnectsBefore, 'reconnect counted');
  assert.ok(!logged(cwm, 'etcd watch start revision was compacted; re-reading the prefix'), 'resumed by replay, no re-read');
});

test('compaction past cwm\'s last revision while cut off: re-read applies adds, changes and deletes', async () => {
  const cluster = etcd as EtcdCluster;
  for (const id of ['c1', 'c2', 'c3']) await cluster.ctl('put', `/cwm/compact/webhooks/${id}`, LOG_HOOK);
  const { cwm, proxy } = await cwmBehindProxy(cluster);
  assert.equal(await webhookStatus(cwm, '/webhook/compact/c2'), 200);

  proxy.cut();
  await waitEtcdState(cwm, 'disconnected');
  await cluster.ctl('put', '/cwm/compact/webhooks/c4', LOG_HOOK);
  await cluster.ctl('put', '/cwm/compact/webhooks/c1', STRICT_HOOK);
  await cluster.ctl('del', '/cwm/compact/webhooks/c2');
  for (let i = 0; i < 5; i++) await cluster.ctl('put', '/cwm/compact/webhooks/churn', JSON.stringify({ module: 'log', topic: `t${i}` }));
  await cluster.ctl('del', '/cwm/compact/webhooks/churn');
  const status = JSON.parse(await cluster.ctl('endpoint', 'status', '-w', 'json')) as { Status: { header: { revision: number } } }[];
  const revision = (status[0] as { Status: { header: { revision: number } } }).Status.header.revision;
  await cluster.ctl('compact', String(revision));
  assert.equal(await webhookStatus(cwm, '/webhook/compact/c2'), 200, 'cut off: the old state still serves');

  proxy.resume();
  await waitForStatus(cwm, '/webhook/compact/c4', 200);
  await waitForStatus(cwm, '/webhook/compact/c1', 422);
  await waitForStatus(cwm, '/webhook/compact/c2', 404);
  assert.equal(await webhookStatus(cwm, '/webhook/compact/c3'), 200, 'unchanged key untouched');
  assert.equal(await webhookStatus(cwm, '/webhook/compact/churn'), 404);
  await waitForLog(cwm, 'etcd watch start revision was compacted; re-reading the prefix');
  await waitForLog(cwm, 'etcd prefix read', { reason: 'compaction' });
  await waitEtcdState(cwm, 'healthy');

  // Watching resumes after the re-read.
  await cluster.ctl('put', '/cwm/compact/webhooks/after', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/compact/after', 200);
});

test('etcd restored from an older backup (its revision went back): cwm re-reads and serves what etcd now holds', async () => {
  const cluster = etcd as EtcdCluster;
  for (let i = 0; i < 10; i++) await cluster.ctl('put', '/cwm/restore/webhooks/current', JSON.stringify({ module: 'log', topic: `t${i}` }));
  const { cwm, proxy } = await cwmBehindProxy(cluster);
  assert.equal(await webhookStatus(cwm, '/webhook/restore/current'), 200);

  // The "restored" etcd: a separate store with fewer revisions and older content.
  const restored = await startEtcd(1);
  try {
    await restored.ctl('put', '/cwm/restore/webhooks/from_backup', LOG_HOOK);
    proxy.cut();
    await waitEtcdState(cwm, 'disconnected');
    proxy.retarget(Number(new URL(restored.endpoints[0] as string).port));
    proxy.resume();
    await waitForStatus(cwm, '/webhook/restore/from_backup', 200);
    await waitForStatus(cwm, '/webhook/restore/current', 404);
    await waitForLog(cwm, 'etcd revision is behind the applied one (restored from a backup?); re-reading the prefix');
    await waitEtcdState(cwm, 'healthy');
    await restored.ctl('put', '/cwm/restore/webhooks/after_restore', LOG_HOOK);
    await waitForStatus(cwm, '/webhook/restore/after_restore', 200);
  } finally {
    await restored.destroy();
  }
});

test('a silent partition (no reset, no close) is noticed by keepalive; the cache serves, then cwm recovers', async () => {
  const cluster = etcd as EtcdCluster;
  await cluster.ctl('put', '/cwm/silent/webhooks/before', LOG_HOOK);
  const { cwm, proxy } = await cwmBehindProxy(cluster);
  assert.equal(await webhookStatus(cwm, '/webhook/silent/before'), 200);

  proxy.stall();
  await cluster.ctl('put', '/cwm/silent/webhooks/during', LOG_HOOK);
  // Only gRPC keepalive (a ping every 7 s, 3 s to answer: etcd-client.ts) can notice this.
  await waitEtcdState(cwm, 'disconnected', 40_000);
  const lost = await waitForLog(cwm, 'etcd watch lost; reconnecting');
  assert.match(String(lost.reason), /keepalive|UNAVAILABLE/i);
  assert.equal(await webhookStatus(cwm, '/webhook/silent/before'), 200, 'cache keeps serving');

  proxy.resume();
  await waitForStatus(cwm, '/webhook/silent/during', 200);
  await waitEtcdState(cwm, 'healthy');
});
