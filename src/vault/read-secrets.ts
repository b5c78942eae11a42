/**
 * The step before substitution for a config with `{$vault:…}` references:
 * find them (where substitution will meet them), read each secret path once
 * through the cache, and hand substitution the values. A path or field Vault
 * says does not exist uses the reference's default, or refuses the config
 * (ConfigError); Vault unreachable throws VaultUnavailableError, which the
 * receiver retries instead of calling the config invalid.
 */
import { ConfigError } from '../errors.js';
import { findVaultReferences, type VaultValues } from '../config/env-substitution.js';
import { VaultClient } from './client.js';
import { parseVaultReference } from './reference.js';
import { SecretCache } from './secret-cache.js';
import type { VaultSettings } from '../settings.js';

/** CWM's bound on one resolved value; a longer one is refused rather than cut (a cut secret never matches). */
export const MAX_SECRET_CHARS = 4096;

export interface VaultSecrets {
  read(path: string): ReturnType<SecretCache['read']>;
}

export function createVaultSecrets(settings: VaultSettings): VaultSecrets & { readonly client: VaultClient } {
  const client = new VaultClient(settings);
  const cache = new SecretCache(client, settings.cacheTtlMs, settings.cacheMaxSize);
  return { client, read: (path) => cache.read(path) };
}

function asText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  // CWM turned objects and lists into JSON and the rest into text; JSON gives `true`, not Python's `True`.
  return JSON.stringify(value);
}

/**
 * Values for every Vault reference in `value` (a parsed config), keyed as
 * substitution looks them up; undefined when no Vault is configured, so
 * substitution refuses the references with the reason.
 */
export async function readVaultValues(value: unknown, secrets: VaultSecrets | undefined): Promise<VaultValues | undefined> {
  if (secrets === undefined) return undefined;
  const values = new Map<string, string>();
  const found = findVaultReferences(value);
  // Each path once, in parallel: one webhook may reference several secrets.
  const parsed = found.map((f) => ({ ...f, ref: parseVaultReference(f.inside, f.pointer) }));
  const paths = [...new Set(parsed.map((p) => p.ref.path))];
  const data = new Map(await Promise.all(paths.map(async (path) => [path, await secrets.read(path)] as const)));
  for (const { inside, pointer, ref } of parsed) {
    const secret = data.get(ref.path);
    const text = secret === undefined ? undefined : asText(Object.hasOwn(secret, ref.field) ? secret[ref.field] : undefined);
    if (text === undefined) {
      if (ref.fallback === undefined) {
        throw new ConfigError(pointer, secret === undefined ? `Vault has no secret at ${JSON.stringify(ref.path)}` : `Vault secret ${JSON.stringify(ref.path)} has no field ${JSON.stringify(ref.field)}`);
      }
      values.set(inside, ref.fallback);
      continue;
    }
    if (text.length > MAX_SECRET_CHARS || text.includes('\u0000')) {
      throw new ConfigError(pointer, `Vault secret ${JSON.stringify(ref.path)} field ${JSON.stringify(ref.field)} is longer than ${MAX_SECRET_CHARS} characters or holds a NUL`);
    }
    values.set(inside, text);
  }
  return values;
}
