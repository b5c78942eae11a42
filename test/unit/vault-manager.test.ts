/**
 * The ConfigManager's Vault path, against the local Vault stand-in
 * (test/helpers/vault-standin.ts): a Vault answer that arrives after a newer
 * value or a delete is dropped, and a re-read inside the TTL does not ask Vault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ConfigManager } from '../../src/config/manager.js';
import type { RawEntry } from '../../src/config/provider.js';
import { LiveConnections } from '../../src/connections/live.js';
import { Metrics } from '../../src/observability/metrics.js';
import { createVaultSecrets } from '../../src/vault/read-secrets.js';
import { startVaultStandIn } from '../helpers/vault-standin.js';

const silent = pino({ level: 'silent' });
const key = { kind: 'webhook', namespace: 'ns', id: 'h' } as const;

function entry(config: Record<string, unknown>): RawEntry {
  return { key, value: JSON.stringify(config), source: 'test' };
}

test('a late Vault answer never replaces a newer value or revives a deleted entry', async (t) => {
  const vault = await startVaultStandIn();
  t.after(() => vault.stop());
  vault.put('app', { token: 't0ken-from-vault' });
  const manager = new ConfigManager({
    logger: silent,
    metrics: new Metrics(),
    connections: new LiveConnections(silent),
    maxBodyBytes: 1 << 20,
    envAllowlist: /^CWM_/,
    vault: createVaultSecrets({ address: vault.address, token: vault.rootToken, mount: 'secret', cacheTtlMs: 0, cacheMaxSize: 10, timeoutMs: 5000 }),
  });
  t.after(() => manager.closeAll());
  const vaulted = (maxBodyBytes: number): RawEntry => entry({ module: 'log', max_body_bytes: maxBodyBytes, authorization: 'Bearer {$vault:app#token}' });

  // A newer plain value lands while the Vault read of the older one is held.
  let release = vault.holdReads();
  manager.upsert(vaulted(1111));
  manager.upsert(entry({ module: 'log', max_body_bytes: 2222 }));
  assert.equal(manager.lookup('ns', 'h')?.maxBodyBytes, 2222);
  release();
  await manager.settled();
  assert.equal(manager.lookup('ns', 'h')?.maxBodyBytes, 2222, 'the late answer was dropped');

  // Two Vault values in a row: the last one wins whatever order the answers come in.
  release = vault.holdReads();
  manager.upsert(vaulted(3333));
  manager.upsert(vaulted(4444));
  release();
  await manager.settled();
  assert.equal(manager.lookup('ns', 'h')?.maxBodyBytes, 4444);

  // Deleted while its read is held: stays deleted.
  release = vault.holdReads();
  manager.upsert(vaulted(5555));
  manager.remove(key, 'test');
  release();
  await manager.settled();
  assert.equal(manager.lookup('ns', 'h'), undefined);
  // TTL 0 keeps nothing, but the reads for 3333 and 4444 were under way together and shared one request.
  assert.equal(vault.reads.get('app'), 3);
});
