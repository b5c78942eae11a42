/**
 * What an operator does: seed webhooks with the real etcdctl, start cwm on
 * etcd, post to it over HTTP, then add and delete webhooks live. Polls, never
 * sleeps.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { etcdEnv } from '../helpers/etcd-config.js';

const HOOK = JSON.stringify({ data_type: 'json', module: 'log', 'module-config': { pretty_print: false } });

let etcd: EtcdCluster;
let cwm: CwmProcess;

before(async () => {
  etcd = await startEtcd(1);
  for (const key of ['ns_alpha/webhooks/hook1', 'ns_alpha/webhooks/hook2', 'ns_beta/webhooks/hook1', 'default/webhooks/hook_default']) {
    await etcd.ctl('put', `/cwm/${key}`, HOOK);
  }
  // ETCD_NAMESPACE left unset: /webhook/<id> means the "default" namespace.
  cwm = await startCwm(etcdEnv(etcd.endpoints));
});

after(async () => {
  if (cwm) assert.equal(await cwm.stop(), 0);
  await etcd?.destroy();
});

test('seeded webhooks answer 200 in their namespace and 404 elsewhere', async () => {
  const res = await cwm.post('/webhook/ns_alpha/hook1', { event: 'push' });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { status: string; delivery_id: string };
  assert.equal(body.status, 'accepted');
  assert.ok(body.delivery_id.length > 0);
  assert.equal(await webhookStatus(cwm, '/webhook/ns_alpha/hook2'), 200);
  assert.equal(await webhookStatus(cwm, '/webhook/ns_beta/hook1'), 200);
  assert.equal(await webhookStatus(cwm, '/webhook/ns_beta/hook2'), 404);
  assert.equal(await webhookStatus(cwm, '/webhook/ns_gamma/hook1'), 404);
});

test('a webhook added live with etcdctl put answers 200', async () => {
  await etcd.ctl('put', '/cwm/ns_beta/webhooks/hook2', HOOK);
  await waitForStatus(cwm, '/webhook/ns_beta/hook2', 200);
});

test('a webhook deleted live with etcdctl del answers 404', async () => {
  await etcd.ctl('del', '/cwm/ns_alpha/webhooks/hook2');
  await waitForStatus(cwm, '/webhook/ns_alpha/hook2', 404);
  assert.equal(await webhookStatus(cwm, '/webhook/ns_alpha/hook1'), 200, 'its neighbour stays');
});

test('POST /webhook/<id> resolves in the default namespace', async () => {
  assert.equal(await webhookStatus(cwm, '/webhook/hook_default'), 200);
  assert.equal(await webhookStatus(cwm, '/webhook/hook1'), 404, 'hook1 exists only in ns_alpha and ns_beta');
  await etcd.ctl('put', '/cwm/default/webhooks/hook_live', HOOK);
  await waitForStatus(cwm, '/webhook/hook_live', 200);
});
