/**
 * 25 000 webhooks (5000 namespaces × 5) in a real etcd: about 6 MB, over
 * gRPC's 4 MiB default message size, so only a paginated (or raised-limit)
 * startup read loads them. No timing goals here; the bound is generous.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { metric, waitForLog, waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { etcdEnv } from '../helpers/etcd-config.js';
import { gridEntries, logHookValue, putMany } from '../helpers/etcd-seed.js';

const NAMESPACES = 5000;
const PER_NAMESPACE = 5;

let etcd: EtcdCluster;
let cwm: CwmProcess;

before(async () => {
  etcd = await startEtcd(1);
  const client = new Etcd3({ hosts: etcd.endpoints });
  try {
    await putMany(client, gridEntries(NAMESPACES, PER_NAMESPACE));
    assert.equal(Number(await client.getAll().prefix('/cwm/').count()), NAMESPACES * PER_NAMESPACE);
  } finally {
    client.close();
  }
});

after(async () => {
  if (cwm) assert.equal(await cwm.stop(), 0);
  await etcd?.destroy();
});

test('loads 25 000 webhooks at startup and serves them', async () => {
  cwm = await startCwm(etcdEnv(etcd.endpoints), { waitReady: false });
  await cwm.waitReady(120_000);
  const read = await waitForLog(cwm, 'etcd prefix read');
  assert.equal(read.entries, NAMESPACES * PER_NAMESPACE);
  assert.ok(Number(read.pages) >= 5, 'read in pages');
  assert.equal(await metric(cwm, 'cwm_config_entries', 'kind="webhook"'), NAMESPACES * PER_NAMESPACE);
  for (const [ns, id] of [[0, 0], [1, 4], [2500, 2], [4999, 4], [4321, 3]] as const) {
    assert.equal(await webhookStatus(cwm, `/webhook/ns${ns}/hook${id}`), 200, `ns${ns}/hook${id}`);
  }
  assert.equal(await webhookStatus(cwm, '/webhook/ns5000/hook0'), 404);
  assert.equal(await webhookStatus(cwm, '/webhook/ns0/hook5'), 404);
  // Still watching after the big read.
  await etcd.ctl('put', '/cwm/ns0/webhooks/hook5', logHookValue('ns0-hook5'));
  await waitForStatus(cwm, '/webhook/ns0/hook5', 200);
});
