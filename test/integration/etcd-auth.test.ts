/**
 * etcd with authentication enabled: cwm logs in with ETCD_USERNAME /
 * ETCD_PASSWORD as a user that may only read the cwm prefix; a wrong password
 * leaves it live but not ready, without crashing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { health, readyStatus, waitForLog, waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { LOG_HOOK, etcdEnv } from '../helpers/etcd-config.js';

const ROOT = '--user=root:root-secret';

let etcd: EtcdCluster;
const procs: CwmProcess[] = [];

async function cwmAs(user: string, password: string, waitReady: boolean): Promise<CwmProcess> {
  const cwm = await startCwm(
    etcdEnv(etcd.endpoints, { ETCD_USERNAME: user, ETCD_PASSWORD: password }),
    { waitReady },
  );
  procs.push(cwm);
  return cwm;
}

before(async () => {
  etcd = await startEtcd(1);
  await etcd.ctl('user', 'add', 'root:root-secret');
  await etcd.ctl('role', 'add', 'cwm-reader');
  await etcd.ctl('role', 'grant-permission', 'cwm-reader', '--prefix=true', 'read', '/cwm/');
  await etcd.ctl('user', 'add', 'cwm:cwm-secret');
  await etcd.ctl('user', 'grant-role', 'cwm', 'cwm-reader');
  await etcd.ctl('auth', 'enable');
  await etcd.ctl(ROOT, 'put', '/cwm/team/webhooks/seeded', LOG_HOOK);
});

after(async () => {
  for (const cwm of procs) assert.equal(await cwm.stop(), 0);
  await etcd?.destroy();
});

test('a read-only etcd user loads and watches the prefix', async () => {
  const cwm = await cwmAs('cwm', 'cwm-secret', true);
  assert.equal(await webhookStatus(cwm, '/webhook/team/seeded'), 200);
  await waitForLog(cwm, 'etcd watch established');
  await etcd.ctl(ROOT, 'put', '/cwm/team/webhooks/live', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/team/live', 200);
  await etcd.ctl(ROOT, 'del', '/cwm/team/webhooks/seeded');
  await waitForStatus(cwm, '/webhook/team/seeded', 404);
  assert.deepEqual(await health(cwm), { status: 200, etcd: 'healthy' });
});

test('a wrong password: live, not ready, the reason logged', async () => {
  const cwm = await cwmAs('cwm', 'not-the-password-7731', false);
  const failed = await waitForLog(cwm, 'etcd prefix read failed; retrying');
  assert.match(String(failed.reason), /authentication failed/i);
  assert.deepEqual(await health(cwm), { status: 200, etcd: 'disconnected' });
  assert.equal(await readyStatus(cwm), 503);
  assert.ok(!JSON.stringify(cwm.logs).includes('not-the-password-7731'), 'the password is never logged');
});
