/**
 * A fleet converges on invalid puts: an invalid value put over a valid one
 * keeps the valid version on running instances, and an instance started
 * afterwards serves the same version from etcd's history instead of
 * answering 404. Once compaction removed every valid version the key stays
 * absent, logged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { metric, waitForLog, waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { LOG_HOOK, STRICT_HOOK, etcdEnv } from '../helpers/etcd-config.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';

let etcd: EtcdCluster;
const running: CwmProcess[] = [];

async function cwm(): Promise<CwmProcess> {
  const c = await startCwm(etcdEnv(etcd.endpoints));
  running.push(c);
  return c;
}

before(async () => {
  etcd = await startEtcd(1);
});

after(async () => {
  for (const c of running) assert.equal(await c.stop(), 0);
  await etcd?.destroy();
});

async function storeRevision(): Promise<number> {
  const status = JSON.parse(await etcd.ctl('endpoint', 'status', '-w', 'json')) as { Status: { header: { revision: number } } }[];
  return (status[0] as { Status: { header: { revision: number } } }).Status.header.revision;
}

test('an instance started after an invalid put serves the newest valid version, as the running ones do', async () => {
  await etcd.ctl('put', '/cwm/team/webhooks/orders', LOG_HOOK);
  await etcd.ctl('put', '/cwm/team/webhooks/orders', STRICT_HOOK);
  const first = await cwm();
  assert.equal(await webhookStatus(first, '/webhook/team/orders'), 422, 'the strict version is live');
  await etcd.ctl('put', '/cwm/team/webhooks/orders', JSON.stringify({ module: 'log', data_type: 'xml' }));
  await etcd.ctl('put', '/cwm/team/webhooks/orders', '{"not json"');
  await waitForLog(first, 'invalid config entry ignored; previous version stays active', { key: '/cwm/team/webhooks/orders' });
  assert.equal(await webhookStatus(first, '/webhook/team/orders'), 422);

  const later = await cwm();
  await waitForStatus(later, '/webhook/team/orders', 422);
  const line = await waitForLog(later, 'current value is invalid; serving the newest valid version from the store history', { key: '/cwm/team/webhooks/orders' });
  assert.ok(Number(line.served_revision) < Number(line.invalid_revision));
  assert.equal(await metric(later, 'cwm_config_served_from_history'), 1);

  // A valid put ends it.
  await etcd.ctl('put', '/cwm/team/webhooks/orders', LOG_HOOK);
  await waitForStatus(later, '/webhook/team/orders', 200);
  assert.equal(await metric(later, 'cwm_config_served_from_history'), 0);
});

test('after compaction removed every valid version, the key stays absent and that is logged', async () => {
  await etcd.ctl('put', '/cwm/team/webhooks/gone', LOG_HOOK);
  await etcd.ctl('put', '/cwm/team/webhooks/gone', '{"module":"nope"}');
  await etcd.ctl('compact', String(await storeRevision()));
  const c = await cwm();
  await waitForLog(c, 'current value is invalid and no valid earlier version is left (compacted); entry stays absent', { key: '/cwm/team/webhooks/gone' });
  assert.equal(await webhookStatus(c, '/webhook/team/gone'), 404);
});
