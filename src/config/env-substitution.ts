/**
 * `{$NAME}` / `{$NAME:default}` placeholders in string values, filled from the
 * receiver's environment. Only names matching the allowlist are read, so
 * whoever can write etcd cannot pull arbitrary process secrets into a config.
 */

const PLACEHOLDER = /\{\$([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

export class SubstitutionError extends Error {}

/**
 * Top-level fields copied verbatim, placeholders and all. `json_schema` is
 * quoted back to unauthenticated senders (422 details, error keywords) and is
 * team-written: a `"required": ["{$CWM_OTHER_TEAMS_SECRET}"]` must stay that
 * literal text, not become the secret.
 */
export const NOT_SUBSTITUTED: ReadonlySet<string> = new Set(['json_schema']);

type Env = Readonly<Record<string, string | undefined>>;

function substituteString(value: string, allow: RegExp, env: Env, pointer: string): string {
  if (!value.includes('{$')) return value;
  return value.replace(PLACEHOLDER, (_match, name: string, fallback: string | undefined) => {
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
export function substituteEnv(value: unknown, allow: RegExp, env: Env = process.env, pointer = ''): unknown {
  if (typeof value === 'string') return substituteString(value, allow, env, pointer);
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, allow, env, `${pointer}/${i}`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const copied = pointer === '' && NOT_SUBSTITUTED.has(k) ? v : substituteEnv(v, allow, env, `${pointer}/${k}`);
      // defineProperty keeps a "__proto__" key an own data property instead of a prototype swap.
      Object.defineProperty(out, k, { value: copied, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
