/**
 * etcd serving clients over TLS and requiring a client certificate: cwm
 * connects with ETCD_CA_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE; without its
 * client certificate it is refused and stays live but not ready.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_ARGS, cliEnv, startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { health, readyStatus, waitForLog, waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { makeTlsFiles } from '../helpers/tls.js';
import { LOG_HOOK, etcdEnv } from '../helpers/etcd-config.js';


let tls: ReturnType<typeof makeTlsFiles>;
let etcd: EtcdCluster;
const procs: CwmProcess[] = [];

async function cwmWith(files: Record<string, string>, waitReady: boolean): Promise<CwmProcess> {
  const cwm = await startCwm(etcdEnv(etcd.endpoints, files), { waitReady });
  procs.push(cwm);
  return cwm;
}

before(async () => {
  tls = makeTlsFiles();
  etcd = await startEtcd(1, { tls });
  await etcd.ctl('put', '/cwm/secure/webhooks/seeded', LOG_HOOK);
});

after(async () => {
  for (const cwm of procs) assert.equal(await cwm.stop(), 0);
  await etcd?.destroy();
  if (tls) rmSync(tls.dir, { recursive: true, force: true });
});

test('with CA, client certificate and key: loads and watches over TLS', async () => {
  assert.match(etcd.endpoints[0] as string, /^https:/);
  const cwm = await cwmWith({ ETCD_CA_FILE: tls.caFile, ETCD_CERT_FILE: tls.clientCertFile, ETCD_KEY_FILE: tls.clientKeyFile }, true);
  assert.equal(await webhookStatus(cwm, '/webhook/secure/seeded'), 200);
  await waitForLog(cwm, 'etcd watch established');
  await etcd.ctl('put', '/cwm/secure/webhooks/live', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/secure/live', 200);
  assert.deepEqual(await health(cwm), { status: 200, etcd: 'healthy' });
});

test('without the client certificate: refused, live, not ready', async () => {
  const cwm = await cwmWith({ ETCD_CA_FILE: tls.caFile }, false);
  const failed = await waitForLog(cwm, 'etcd prefix read failed; retrying');
  assert.match(String(failed.reason), /certificate/, 'refused in the TLS handshake');
  assert.deepEqual(await health(cwm), { status: 200, etcd: 'disconnected' });
  assert.equal(await readyStatus(cwm), 503);
});

test('an unreadable TLS file is a startup error: clear message, exit code 1', async () => {
  const missing = join(tls.dir, 'missing-ca.pem');
  const proc = spawn(process.execPath, [...CLI_ARGS, 'serve'], {
    env: cliEnv({ HOST: '127.0.0.1', PORT: '0', ...etcdEnv(etcd.endpoints, { ETCD_CA_FILE: missing }) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  assert.equal(code, 1);
  const fatal = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; reason?: string }).find((l) => l.level === 60);
  assert.ok(fatal?.reason?.includes(`ETCD_CA_FILE=${missing}: cannot read`), out);
});
