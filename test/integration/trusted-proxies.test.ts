/** ip_whitelist behind a proxy: X-Forwarded-For counts only when the peer is in TRUSTED_PROXIES; a bad TRUSTED_PROXIES stops startup with a clear message. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { CLI_ARGS, cliEnv, startCwm, type CwmProcess } from '../helpers/cwm-process.js';

let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  dir = configDirWith({ private: { module: 'log', ip_whitelist: ['10.0.0.0/8', '2001:db8::/32'] } });
  cwm = await startCwm({ CONFIG_DIR: dir.path, TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
});

test('the right-most untrusted X-Forwarded-For hop is judged when the peer is a trusted proxy', async () => {
  assert.equal((await cwm.post('/webhook/private', {}, { 'x-forwarded-for': '10.1.2.3' })).status, 200);
  assert.equal((await cwm.post('/webhook/private', {}, { 'x-forwarded-for': '2001:db8::42' })).status, 200);
  assert.equal((await cwm.post('/webhook/private', {}, { 'x-forwarded-for': '203.0.113.7' })).status, 403);
  // A client that prepends an allowed address to the header does not get in.
  assert.equal((await cwm.post('/webhook/private', {}, { 'x-forwarded-for': '10.1.2.3, 203.0.113.7' })).status, 403);
  assert.equal((await cwm.post('/webhook/private', {}, { 'x-forwarded-for': 'garbage' })).status, 403);
  assert.equal((await cwm.post('/webhook/private', {})).status, 403, 'the proxy itself is not whitelisted');
});

test('an invalid TRUSTED_PROXIES refuses to start, naming the variable', () => {
  const r = spawnSync(process.execPath, [...CLI_ARGS, 'serve'], { env: cliEnv({ CONFIG_DIR: dir.path, PORT: '0', TRUSTED_PROXIES: '10.0.0.0/8,not-a-cidr' }), encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /TRUSTED_PROXIES: "not-a-cidr" is not an IP address or CIDR/);
});

test("CWM's TRUSTED_PROXY_IPS works as TRUSTED_PROXIES", async () => {
  const alias = await startCwm({ CONFIG_DIR: dir.path, TRUSTED_PROXY_IPS: '127.0.0.1/32,::1' });
  try {
    assert.equal((await alias.post('/webhook/private', {}, { 'x-forwarded-for': '10.1.2.3' })).status, 200);
    assert.equal((await alias.post('/webhook/private', {}, { 'x-forwarded-for': '203.0.113.7' })).status, 403);
  } finally {
    assert.equal(await alias.stop(), 0);
  }
});

test('TRUSTED_PROXY_IPS errors name it; both names set to different lists refuse to start', () => {
  const env = cliEnv({ CONFIG_DIR: dir.path, PORT: '0' });
  const bad = spawnSync(process.execPath, [...CLI_ARGS, 'serve'], { env: { ...env, TRUSTED_PROXY_IPS: 'not-a-cidr' }, encoding: 'utf8', timeout: 10_000 });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /TRUSTED_PROXY_IPS: "not-a-cidr" is not an IP address or CIDR/);
  const both = spawnSync(process.execPath, [...CLI_ARGS, 'serve'], { env: { ...env, TRUSTED_PROXIES: '127.0.0.1', TRUSTED_PROXY_IPS: '10.0.0.1' }, encoding: 'utf8', timeout: 10_000 });
  assert.equal(both.status, 2, both.stderr);
  assert.match(both.stderr, /both set, to different lists/);
});
