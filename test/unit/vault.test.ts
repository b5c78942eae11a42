/**
 * `{$vault:path#field}` references: parsing (CWM's rules), substitution
 * (never the literal text, never inside json_schema), and reading secrets
 * from a local stand-in for Vault's KV v2 and AppRole HTTP API
 * (test/helpers/vault-standin.ts: no Vault server is installable here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findVaultReferences, substituteEnv, SubstitutionError } from '../../src/config/env-substitution.js';
import { judgeConfig } from '../../src/config/judge.js';
import { ConfigError } from '../../src/errors.js';
import { vaultSettings, SettingsError, type VaultSettings } from '../../src/settings.js';
import { VaultClient, VaultUnavailableError } from '../../src/vault/client.js';
import { parseVaultReference } from '../../src/vault/reference.js';
import { readVaultValues } from '../../src/vault/read-secrets.js';
import { SecretCache } from '../../src/vault/secret-cache.js';
import { freePort } from '../helpers/ports.js';
import { startVaultStandIn } from '../helpers/vault-standin.js';

const wide = /.*/;

test('without a Vault, a reference is refused, even under an allowlist that admits every name: never the literal "path#field"', () => {
  const config = { module: 'log', authorization: 'Bearer {$vault:webhooks/auth#token}' };
  assert.throws(() => substituteEnv(config, wide, {}), (err: Error) => err instanceof SubstitutionError && err.message.includes('/authorization') && err.message.includes('no Vault is configured'));
  // A variable literally named "vault" does not change that, nor a default inside the reference.
  assert.throws(() => substituteEnv({ a: 'x{$vault:p#f:fallback-secret}' }, wide, { vault: 'env-value' }), (err: Error) => err instanceof SubstitutionError && !err.message.includes('fallback-secret'));
  // The receiver's own judge says the same, and the reason reaches the operator.
  const errors = judgeConfig('webhook', config, { envAllowlist: wide, env: {} });
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /^\/authorization uses a Vault reference .* no Vault is configured/);
  assert.doesNotMatch(errors[0] as string, /webhooks\/auth#token/);
});

test('with Vault values, references are replaced whole or embedded, once (a value is not substituted again)', () => {
  const vault = new Map([['db#password', 'p{$CWM_X}w'], ['auth#token', 'tok']]);
  const out = substituteEnv({ a: '{$vault:db#password}', b: ['Bearer {$vault:auth#token} {$CWM_Y}'] }, /^CWM_/, { CWM_X: 'no', CWM_Y: 'y' }, vault);
  assert.deepEqual(out, { a: 'p{$CWM_X}w', b: ['Bearer tok y'] });
});

test('references inside json_schema are neither read nor substituted (quoted to senders)', () => {
  const config = { module: 'log', json_schema: { type: 'object', required: ['{$vault:other/team#secret}'] }, authorization: '{$vault:a#b}' };
  assert.deepEqual(findVaultReferences(config).map((r) => r.pointer), ['/authorization']);
  const out = substituteEnv(config, wide, {}, new Map([['a#b', 'x']])) as { json_schema: { required: string[] } };
  assert.deepEqual(out.json_schema.required, ['{$vault:other/team#secret}']);
});

test("reference syntax follows CWM's rules", () => {
  assert.deepEqual(parseVaultReference('/webhooks/github/#token', '/p'), { path: 'webhooks/github', field: 'token' });
  assert.deepEqual(parseVaultReference('a/b#f:de:fault', '/p'), { path: 'a/b', field: 'f', fallback: 'de:fault' });
  for (const bad of ['no-hash', 'a/../b#f', 'a#', '#f', 'a b#f', 'a#f/g', 'a#..', `${'x'.repeat(513)}#f`]) {
    assert.throws(() => parseVaultReference(bad, '/p'), (err: Error) => err instanceof ConfigError && err.message.startsWith('/p '), bad);
  }
});

test('Vault settings: VAULT_ADDR turns it on, credentials are required, KV v1 and credentials in the address are refused', () => {
  assert.equal(vaultSettings({}), undefined);
  assert.throws(() => vaultSettings({ SECRETS_BACKEND: 'vault' }), SettingsError);
  assert.throws(() => vaultSettings({ VAULT_ADDR: 'http://v:8200' }), /no Vault credentials/);
  assert.throws(() => vaultSettings({ VAULT_ADDR: 'http://u:p@v:8200', VAULT_TOKEN: 't' }), /must not hold credentials/);
  assert.throws(() => vaultSettings({ VAULT_ADDR: 'http://v:8200', VAULT_TOKEN: 't', VAULT_KV_VERSION: '1' }), /only KV version 2/);
  const s = vaultSettings({ VAULT_ADDR: 'http://v:8200/', VAULT_ROLE_ID: 'r', VAULT_SECRET_ID: 's', VAULT_MOUNT_POINT: '/kv/' });
  assert.deepEqual({ address: s?.address, mount: s?.mount, ttl: s?.cacheTtlMs, token: s?.token }, { address: 'http://v:8200', mount: 'kv', ttl: 300_000, token: undefined });
});

function settingsFor(address: string, extra: Partial<VaultSettings> = {}): VaultSettings {
  return { address, mount: 'secret', cacheTtlMs: 0, cacheMaxSize: 100, timeoutMs: 2000, ...extra };
}

test('secrets are read over KV v2 with the token; missing fields use the default or refuse; unreachable is retryable and names no secret', async (t) => {
  const vault = await startVaultStandIn();
  t.after(() => vault.stop());
  vault.put('webhooks/auth', { token: 's3cr3t-value', n: 42, obj: { a: 1 }, nothing: null });
  const client = new VaultClient(settingsFor(vault.address, { token: vault.rootToken }));
  const values = await readVaultValues({ a: '{$vault:webhooks/auth#token}', b: 'n={$vault:webhooks/auth#n}', c: '{$vault:webhooks/auth#obj}', d: '{$vault:webhooks/auth#nothing:dflt}', e: '{$vault:webhooks/gone#x:fb}' }, client);
  assert.deepEqual(Object.fromEntries(values ?? []), { 'webhooks/auth#token': 's3cr3t-value', 'webhooks/auth#n': '42', 'webhooks/auth#obj': '{"a":1}', 'webhooks/auth#nothing:dflt': 'dflt', 'webhooks/gone#x:fb': 'fb' });
  assert.equal(vault.reads.get('webhooks/auth'), 1, 'one path, one read');
  await assert.rejects(readVaultValues({ a: '{$vault:webhooks/auth#missing}' }, client), (err: Error) => err instanceof ConfigError && err.message === '/a Vault secret "webhooks/auth" has no field "missing"');
  await assert.rejects(readVaultValues({ a: { b: '{$vault:webhooks/gone#x}' } }, client), (err: Error) => err instanceof ConfigError && err.message.startsWith('/a/b Vault has no secret'));
  const wrongToken = new VaultClient(settingsFor(vault.address, { token: 'not-a-token' }));
  await assert.rejects(wrongToken.read('webhooks/auth'), (err: Error) => err instanceof VaultUnavailableError && /HTTP 403/.test(err.message) && !err.message.includes('not-a-token'));
  const down = new VaultClient(settingsFor(`http://127.0.0.1:${await freePort()}`, { token: vault.rootToken }));
  await assert.rejects(down.read('webhooks/auth'), (err: Error) => err instanceof VaultUnavailableError && /unreachable \(ECONNREFUSED\)/.test(err.message) && !err.message.includes(vault.rootToken));
  assert.equal(await readVaultValues({ a: '{$vault:x#y}' }, undefined), undefined, 'no Vault: substitution refuses');
});

test('AppRole: logs in once, logs in again before the lease ends and after a 403 (revoked token)', async (t) => {
  const vault = await startVaultStandIn();
  t.after(() => vault.stop());
  vault.put('app', { k: 'v' });
  vault.approleLeaseSeconds = 60;
  let now = Date.now();
  const client = new VaultClient(settingsFor(vault.address, { roleId: vault.roleId, secretId: vault.secretId }), () => now);
  await Promise.all([client.read('app'), client.read('app'), client.read('app')]);
  assert.equal(vault.logins, 1, 'concurrent reads share one login');
  now += 58_000;
  assert.deepEqual(await client.read('app'), { k: 'v' });
  assert.equal(vault.logins, 1, 'token still inside its lease');
  now += 1_500; // within RENEW_MARGIN_MS of the lease's end
  await client.read('app');
  assert.equal(vault.logins, 2, 'renewed before expiry');
  vault.revokeLogins();
  assert.deepEqual(await client.read('app'), { k: 'v' });
  assert.equal(vault.logins, 3, 'a 403 triggers one fresh login');
  const bad = new VaultClient(settingsFor(vault.address, { roleId: vault.roleId, secretId: 'wrong' }));
  await assert.rejects(bad.read('app'), (err: Error) => err instanceof VaultUnavailableError && /refused the AppRole login \(HTTP 400\)/.test(err.message) && !err.message.includes('wrong'));
});

test('the secret cache keeps a read for its TTL, shares concurrent reads and does not keep "not found"', async (t) => {
  const vault = await startVaultStandIn();
  t.after(() => vault.stop());
  vault.put('p', { f: '1' });
  let now = 1_000_000;
  const cache = new SecretCache(new VaultClient(settingsFor(vault.address, { token: vault.rootToken })), 10_000, 10, () => now);
  await Promise.all([cache.read('p'), cache.read('p')]);
  await cache.read('p');
  assert.equal(vault.reads.get('p'), 1);
  now += 10_001;
  await cache.read('p');
  assert.equal(vault.reads.get('p'), 2, 'expired after the TTL');
  assert.equal(await cache.read('later'), undefined);
  vault.put('later', { f: '2' });
  assert.deepEqual(await cache.read('later'), { f: '2' });
  assert.equal(vault.reads.get('later'), 2);
});
