/**
 * `{$vault:path#field}` against a running cwm. Vault is played by a local
 * stand-in speaking Vault's documented KV v2 and AppRole HTTP API
 * (test/helpers/vault-standin.ts): no Vault server is installable on the test
 * machines. cwm talks to it over real HTTP, as it would to Vault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { configDirWith } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startVaultStandIn, type VaultStandIn } from '../helpers/vault-standin.js';

const TOKEN = 'vault-held-bearer-7f3a9c';

function hook(path = 'webhooks/auth'): Record<string, unknown> {
  return { module: 'log', authorization: `Bearer {$vault:${path}#bearer_token}` };
}

function logsHold(cwm: CwmProcess, text: string): boolean {
  return cwm.logs.some((l) => JSON.stringify(l).includes(text));
}

async function status(cwm: CwmProcess, id: string, token = TOKEN): Promise<number> {
  return (await cwm.post(`/webhook/${id}`, { x: 1 }, { authorization: `Bearer ${token}` })).status;
}

async function vaultWithSecret(t: { after: (fn: () => Promise<void>) => void }): Promise<VaultStandIn> {
  const vault = await startVaultStandIn();
  t.after(() => vault.stop());
  vault.put('webhooks/auth', { bearer_token: TOKEN });
  return vault;
}

test('token auth: the authorization token comes from Vault; the right token is accepted, a wrong one refused; the secret is never logged', async (t) => {
  const vault = await vaultWithSecret(t);
  const dir = configDirWith({ vaulted: hook() });
  t.after(() => dir.remove());
  const cwm = await startCwm({ CONFIG_DIR: dir.path, VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken, LOG_LEVEL: 'debug' });
  t.after(() => cwm.stop());
  assert.equal(await status(cwm, 'vaulted'), 200, 'ready means the Vault entry is already served');
  assert.equal(await status(cwm, 'vaulted', 'wrong'), 401);
  assert.equal(await status(cwm, 'vaulted', 'webhooks/auth#bearer_token'), 401, 'not the reference text');
  assert.equal(vault.reads.get('webhooks/auth'), 1);
  assert.ok(!logsHold(cwm, TOKEN) && !logsHold(cwm, vault.rootToken), 'neither the secret nor the Vault token reaches the log');
});

test('the cache TTL is honoured: a config change within the TTL does not read Vault again; after the TTL it does', async (t) => {
  const vault = await vaultWithSecret(t);
  const long = configDirWith({ a: hook(), b: hook() });
  t.after(() => long.remove());
  const cached = await startCwm({ CONFIG_DIR: long.path, VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken, VAULT_CACHE_TTL_SECONDS: '300' });
  t.after(() => cached.stop());
  assert.equal(vault.reads.get('webhooks/auth'), 1, 'two webhooks, one read');
  long.write('webhooks.json', { a: hook(), b: hook(), c: hook() });
  await waitFor(async () => (await status(cached, 'c')) === 200, 5000, 'c served');
  assert.equal(vault.reads.get('webhooks/auth'), 1, 'c used the cached secret');
  await cached.stop();

  const short = configDirWith({ a: hook() });
  t.after(() => short.remove());
  const expiring = await startCwm({ CONFIG_DIR: short.path, VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken, VAULT_CACHE_TTL_SECONDS: '1' });
  t.after(() => expiring.stop());
  assert.equal(vault.reads.get('webhooks/auth'), 2);
  const readAt = Date.now();
  // Waiting out the TTL is the point of this step.
  await waitFor(() => Date.now() > readAt + 1100, 3000, 'the 1 s TTL to pass');
  short.write('webhooks.json', { a: hook(), c: hook() });
  await waitFor(async () => (await status(expiring, 'c')) === 200, 5000, 'c served');
  assert.equal(vault.reads.get('webhooks/auth'), 3, 'read again once the TTL passed');
});

test('AppRole: cwm logs in with role_id/secret_id and logs in again when the token expires', async (t) => {
  const vault = await vaultWithSecret(t);
  vault.approleLeaseSeconds = 2;
  const dir = configDirWith({ a: hook() });
  t.after(() => dir.remove());
  const cwm = await startCwm({ CONFIG_DIR: dir.path, VAULT_ADDR: vault.address, VAULT_ROLE_ID: vault.roleId, VAULT_SECRET_ID: vault.secretId, VAULT_CACHE_TTL_SECONDS: '0' });
  t.after(() => cwm.stop());
  assert.equal(await status(cwm, 'a'), 200);
  assert.equal(vault.logins, 1);
  const loginAt = Date.now();
  // The token is renewed a second before its 2 s lease ends: wait past that, then make cwm read Vault again.
  await waitFor(() => Date.now() > loginAt + 1200, 3000, 'the token to near its expiry');
  dir.write('webhooks.json', { a: hook(), b: hook() });
  await waitFor(async () => (await status(cwm, 'b')) === 200, 5000, 'b served');
  assert.equal(vault.logins, 2, 'a fresh login, not a read with an expired token');
  assert.equal(vault.denied, 0);
  assert.ok(!logsHold(cwm, vault.secretId) && !logsHold(cwm, TOKEN));
});

test('no Vault configured: a vault reference is refused with the reason, even with an allowlist that admits every name', async (t) => {
  const dir = configDirWith({ vaulted: hook(), plain: { module: 'log' } });
  t.after(() => dir.remove());
  const cwm = await startCwm({ CONFIG_DIR: dir.path, CONFIG_ENV_ALLOWLIST: '.*' });
  t.after(() => cwm.stop());
  assert.equal(await status(cwm, 'plain'), 200);
  assert.equal(await status(cwm, 'vaulted'), 404, 'not served');
  assert.equal(await status(cwm, 'vaulted', 'webhooks/auth#bearer_token'), 404, 'the literal reference text never became the token');
  const line = cwm.logs.find((l) => l.msg === 'invalid config entry ignored; entry stays absent');
  assert.match(String(line?.reason), /^\/authorization uses a Vault reference .*no Vault is configured/);
  const cli = await runCli(['validate', '-'], { input: JSON.stringify(hook()), env: { CONFIG_ENV_ALLOWLIST: '.*' } });
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /\/authorization uses a Vault reference .*no Vault is configured/);
});

test('Vault unreachable at load: the entry is not served, the reason is logged without secrets, and it is served once Vault is back', async (t) => {
  const vault = await vaultWithSecret(t);
  await vault.stop();
  const dir = configDirWith({ vaulted: hook(), plain: { module: 'log' } });
  t.after(() => dir.remove());
  // TTL 0: every load reads Vault (with a TTL, a re-read inside it uses the cached secret and Vault is not asked).
  const cwm = await startCwm({ CONFIG_DIR: dir.path, VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken, VAULT_CACHE_TTL_SECONDS: '0' });
  t.after(() => cwm.stop());
  assert.equal(await status(cwm, 'plain'), 200, 'other entries are served');
  assert.equal(await status(cwm, 'vaulted'), 404);
  const line = cwm.logs.find((l) => String(l.msg).startsWith('Vault secrets of this entry could not be read'));
  assert.match(String(line?.reason), /unreachable \(ECONNREFUSED\) reading secret "webhooks\/auth"/);
  assert.ok(!logsHold(cwm, vault.rootToken));
  await vault.start();
  await waitFor(async () => (await status(cwm, 'vaulted')) === 200, 15_000, 'served after Vault came back');

  // A re-read while Vault is down keeps the version being served.
  await vault.stop();
  dir.write('webhooks.json', { vaulted: { ...hook(), max_body_bytes: 4096 }, plain: { module: 'log' } });
  await waitFor(() => cwm.logs.some((l) => l.msg === 'Vault secrets of this entry could not be read; previous version stays active until they can'), 5000, 'failed re-read logged');
  assert.equal(await status(cwm, 'vaulted'), 200, 'previous version still served');
  assert.equal(await status(cwm, 'vaulted', 'wrong'), 401);
});

test('cwm validate reads references from the Vault of its own environment, names a missing field, and exits promptly', async (t) => {
  const vault = await vaultWithSecret(t);
  const env = { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken };
  const ok = await runCli(['validate', '-'], { input: JSON.stringify(hook()), env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.ms < 5000, `exited after ${ok.ms} ms`);
  const missing = await runCli(['validate', '-'], { input: JSON.stringify({ module: 'log', authorization: '{$vault:webhooks/auth#nope}' }), env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\/authorization Vault secret "webhooks\/auth" has no field "nope"/);
  assert.ok(!(ok.stdout + ok.stderr + missing.stderr).includes(TOKEN));
});
