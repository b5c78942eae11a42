/** A real 3-node etcd cluster loses its leader: cwm, knowing all three endpoints, keeps receiving updates. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { health, waitForLog, waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { waitFor } from '../helpers/ports.js';
import { LOG_HOOK, etcdEnv } from '../helpers/etcd-config.js';


let etcd: EtcdCluster;
let cwm: CwmProcess;

before(async () => {
  etcd = await startEtcd(3);
  await etcd.ctl('put', '/cwm/team/webhooks/before', LOG_HOOK);
  cwm = await startCwm(etcdEnv(etcd.endpoints));
  await waitForLog(cwm, 'etcd watch established');
});

after(async () => {
  if (cwm) assert.equal(await cwm.stop(), 0);
  await etcd?.destroy();
});

test('leader killed: a put and a delete made afterwards are served', async () => {
  assert.equal(await webhookStatus(cwm, '/webhook/team/before'), 200);
  const leader = await etcd.leaderIndex();
  await etcd.kill(leader);
  // A put proposed before the survivors elect a new leader stalls for etcd's 5 s request timeout.
  await waitFor(() => etcd.leaderIndex().then((i) => i !== leader && i >= 0), 20_000, 'new leader elected');
  await waitFor(() => etcd.ctl('put', '/cwm/team/webhooks/after', LOG_HOOK).then(() => true), 20_000, 'put after leader loss');
  await waitForStatus(cwm, '/webhook/team/after', 200);
  await etcd.ctl('del', '/cwm/team/webhooks/before');
  await waitForStatus(cwm, '/webhook/team/before', 404);
  await waitFor(async () => (await health(cwm)).etcd === 'healthy', 20_000, 'etcd healthy again');
  assert.equal((await health(cwm)).status, 200);

  // The old leader rejoins; updates keep flowing.
  await etcd.restart(leader);
  await etcd.ctl('put', '/cwm/team/webhooks/rejoined', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/team/rejoined', 200);
});

/** etcd member ids are uint64: compare them as decimal strings (etcd3's form), never as JS numbers. */
async function memberIndex(memberId: string): Promise<number> {
  // A member restarted by the previous test may still be starting: `endpoint status` fails until every member answers.
  const out = await waitFor(() => etcd.ctl('endpoint', 'status', '-w', 'simple'), 20_000, 'every member answers endpoint status');
  for (const line of out.trim().split('\n')) {
    const [endpoint, hexId] = line.split(',').map((f) => f.trim());
    if (hexId !== undefined && BigInt(`0x${hexId}`).toString() === memberId) return etcd.endpoints.indexOf(endpoint as string);
  }
  throw new Error(`member ${memberId} not found in:\n${out}`);
}

test('the member serving cwm\'s watch is killed: the watch moves to another member', async () => {
  const established = cwm.logs.filter((l) => l.msg === 'etcd watch established');
  const current = established[established.length - 1] as { member_id: string };
  const index = await memberIndex(current.member_id);
  await etcd.kill(index);
  await waitFor(() => etcd.leaderIndex().then((i) => i !== index && i >= 0), 20_000, 'a live leader');
  await waitFor(() => etcd.ctl('put', '/cwm/team/webhooks/moved', LOG_HOOK).then(() => true), 20_000, 'put after member loss');
  await waitForStatus(cwm, '/webhook/team/moved', 200);
  const moved = await waitFor(() => {
    const all = cwm.logs.filter((l) => l.msg === 'etcd watch established');
    return all.length > established.length ? (all[all.length - 1] as { member_id: string }) : undefined;
  }, 20_000, 'watch re-established');
  assert.notEqual(moved.member_id, current.member_id, 'on another member');
  await etcd.restart(index);
});

test('quorum lost around the member serving the watch: cwm reports etcd disconnected, serves its cache, recovers', async () => {
  const established = cwm.logs.filter((l) => l.msg === 'etcd watch established');
  const watched = await memberIndex((established[established.length - 1] as { member_id: string }).member_id);
  const others = [0, 1, 2].filter((i) => i !== watched);
  for (const i of others) await etcd.kill(i);
  // The surviving member has no leader: etcd ends streams that asked for one ("hasleader"), so the watch cannot sit there silently.
  await waitFor(async () => (await health(cwm)).etcd === 'disconnected', 20_000, 'etcd reported disconnected');
  assert.equal((await health(cwm)).status, 200);
  assert.equal(await webhookStatus(cwm, '/webhook/team/after'), 200, 'cache keeps serving');

  for (const i of others) await etcd.restart(i);
  await waitFor(() => etcd.leaderIndex().then((i) => i >= 0), 20_000, 'quorum back');
  await waitFor(() => etcd.ctl('put', '/cwm/team/webhooks/quorum_back', LOG_HOOK).then(() => true), 20_000, 'put after quorum is back');
  await waitForStatus(cwm, '/webhook/team/quorum_back', 200);
  await waitFor(async () => (await health(cwm)).etcd === 'healthy', 20_000, 'etcd healthy again');
});
