/**
 * `{$NAME}` / `{$NAME:default}` placeholders in string values, filled from the
 * receiver's environment. Only names matching the allowlist are read, so
 * whoever can write etcd cannot pull arbitrary process secrets into a config.
 *
 * `{$vault:path#field}` (CWM's Vault reference) is matched first, by the same
 * one-pass pattern, so it can never fall through to the `{$NAME:default}`
 * form: with a wide allowlist `{$vault:a#b}` would otherwise read variable
 * `vault`, find it unset and become the literal text `a#b`. Its value comes
 * from secrets read beforehand (src/vault/); without a Vault it is refused.
 */

/** Group 1: a Vault reference's inside; groups 2/3: an environment name and its default. */
const PLACEHOLDER = /\{\$(?:vault:([^}]*)|([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?)\}/g;

export class SubstitutionError extends Error {}

/**
 * Top-level fields copied verbatim, placeholders and all. `json_schema` is
 * quoted back to unauthenticated senders (422 details, error keywords) and is
 * team-written: a `"required": ["{$CWM_OTHER_TEAMS_SECRET}"]` must stay that
 * literal text, not become the secret (nor a Vault secret).
 */
export const NOT_SUBSTITUTED: ReadonlySet<string> = new Set(['json_schema']);

type Env = Readonly<Record<string, string | undefined>>;

/** Vault references found in a config: the text inside `{$vault:…}` and the JSON pointer of its string. */
export interface FoundReference {
  readonly inside: string;
  readonly pointer: string;
}

/**
 * What `{$vault:…}` references resolve to, keyed by the text inside the braces.
 * Absent: no Vault is configured, and a reference is refused.
 */
export type VaultValues = ReadonlyMap<string, string>;

export const NO_VAULT_REASON = 'uses a Vault reference ({$vault:path#field}) but no Vault is configured: set VAULT_ADDR and VAULT_TOKEN (or VAULT_ROLE_ID and VAULT_SECRET_ID)';

/**
 * Every string of `value` through `fn`, in a deep copy; `json_schema` at the
 * top is copied untouched. The one walk both substitution and the Vault
 * reference scan use, so they agree on where placeholders count.
 */
export function mapConfigStrings(value: unknown, fn: (text: string, pointer: string) => string, pointer = ''): unknown {
  if (typeof value === 'string') return fn(value, pointer);
  if (Array.isArray(value)) return value.map((v, i) => mapConfigStrings(v, fn, `${pointer}/${i}`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const copied = pointer === '' && NOT_SUBSTITUTED.has(k) ? v : mapConfigStrings(v, fn, `${pointer}/${k}`);
      // defineProperty keeps a "__proto__" key an own data property instead of a prototype swap.
      Object.defineProperty(out, k, { value: copied, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function substituteString(value: string, allow: RegExp, env: Env, pointer: string, vault: VaultValues | undefined): string {
  if (!value.includes('{$')) return value;
  return value.replace(PLACEHOLDER, (_match, inside: string | undefined, name: string, fallback: string | undefined) => {
    if (inside !== undefined) {
      // The reference is not quoted: its `:default` part may be a fallback secret.
      if (vault === undefined) throw new SubstitutionError(`${pointer || '/'} ${NO_VAULT_REASON}`);
      const found = vault.get(inside);
      // Secrets are read for every reference the scan finds before substitution; a miss is a bug in cwm.
      if (found === undefined) throw new Error(`${pointer || '/'}: Vault reference was not read before substitution`);
      return found;
    }
    if (!allow.test(name)) {
      throw new SubstitutionError(`${pointer || '/'}: environment variable ${name} is not allowed by CONFIG_ENV_ALLOWLIST`);
    }
    const found = env[name];
    if (found !== undefined) return found;
    if (fallback !== undefined) return fallback;
    throw new SubstitutionError(`${pointer || '/'}: environment variable ${name} is not set and has no default`);
  });
}

/** Returns a deep copy of `value` with every placeholder replaced; throws SubstitutionError. */
export function substituteEnv(value: unknown, allow: RegExp, env: Env = process.env, vault?: VaultValues): unknown {
  return mapConfigStrings(value, (text, pointer) => substituteString(text, allow, env, pointer, vault));
}

/** The Vault references of `value`, where substitution would meet them (not inside `json_schema`). */
export function findVaultReferences(value: unknown): FoundReference[] {
  const found: FoundReference[] = [];
  mapConfigStrings(value, (text, pointer) => {
    if (!text.includes('{$vault:')) return text;
    for (const m of text.matchAll(PLACEHOLDER)) if (m[1] !== undefined) found.push({ inside: m[1], pointer: pointer || '/' });
    return text;
  });
  return found;
}

/** Whether JSON text can hold a Vault reference (a `\u` escape may spell one out). */
export function mayHoldVaultReference(text: string): boolean {
  return text.includes('{$vault:') || text.includes('\\u');
}
