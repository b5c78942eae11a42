/**
 * One config value from text to a validated object: size bound, JSON parse,
 * `{$NAME}` substitution under the allowlist (and `{$vault:…}` from secrets read beforehand), the published schema with
 * defaults filled in. The receiver (ConfigManager) and the CLI (validate,
 * put, import) both call this, so they judge a value the same way.
 */
import { ConfigError } from '../errors.js';
import { normalizeCwmForms } from './cwm-forms.js';
import { substituteEnv, SubstitutionError, type VaultValues } from './env-substitution.js';
import { describeJsonError } from './json-error.js';
import { validateConfig, type EntryKind } from './validation.js';
import { parseDefaultConnections, SettingsError } from '../settings.js';
import { findConnectionType } from '../connections/registry.js';

/** A webhook or connection config is a few KiB; anything far larger is a mistake or an attack on compile time. */
export const MAX_CONFIG_VALUE_BYTES = 256 * 1024;

export interface EntryEnvironment {
  readonly envAllowlist: RegExp;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Values of the `{$vault:…}` references in this config, read beforehand
   * (src/vault/read-secrets.ts); absent when no Vault is configured, and a
   * reference is then refused.
   */
  readonly vault?: VaultValues;
}

let lastDefaults: { raw: string | undefined; parsed: ReadonlyMap<string, string> } | undefined;

/**
 * DEFAULT_CONNECTIONS as the environment sets it, parsed once per distinct
 * value (the receiver reads one value for tens of thousands of entries).
 * A value serve would refuse to start with refuses the entry here (the CLI).
 */
export function defaultConnectionsOf(env: EntryEnvironment['env']): ReadonlyMap<string, string> {
  const raw = env.DEFAULT_CONNECTIONS;
  if (lastDefaults !== undefined && lastDefaults.raw === raw) return lastDefaults.parsed;
  let parsed: ReadonlyMap<string, string>;
  try {
    parsed = parseDefaultConnections(raw);
  } catch (err) {
    if (err instanceof SettingsError) throw new ConfigError('', err.message);
    throw err;
  }
  for (const type of parsed.keys()) if (!findConnectionType(type)) throw new ConfigError('', `DEFAULT_CONNECTIONS: ${JSON.stringify(type)} is not a connection type`);
  lastDefaults = { raw, parsed };
  return parsed;
}

const NO_CONNECTION = "must have required property 'connection'";

/** A missing connection says what else would do: CWM's configs often name none. */
function withConnectionHint(errors: string[]): string[] {
  return errors.map((e) => (e.endsWith(NO_CONNECTION) ? `${e} (name one, or the operator sets DEFAULT_CONNECTIONS for its type)` : e));
}

/** Parses JSON text; the error never quotes the text (it may hold secrets). */
export function parseConfigText(text: string): unknown {
  if (Buffer.byteLength(text) > MAX_CONFIG_VALUE_BYTES) throw new ConfigError('', `value exceeds ${MAX_CONFIG_VALUE_BYTES} bytes`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError('', `value is not valid JSON: ${describeJsonError(err)}`);
  }
}

/**
 * Substitutes placeholders and validates `value` (a fresh parse result or a
 * copy: defaults are written into it). Returns the value as the receiver uses it.
 */
export function prepareConfig(kind: EntryKind, value: unknown, environment: EntryEnvironment): unknown {
  let substituted: unknown;
  try {
    substituted = substituteEnv(value, environment.envAllowlist, environment.env, environment.vault);
  } catch (err) {
    if (err instanceof SubstitutionError) throw new ConfigError('', err.message);
    throw err;
  }
  const normalized = normalizeCwmForms(kind, substituted, defaultConnectionsOf(environment.env));
  const errors = withConnectionHint(validateConfig(kind, normalized));
  if (errors.length > 0) throw new ConfigError('', `schema: ${errors.join('; ')}`, errors);
  return normalized;
}

/** parseConfigText + prepareConfig, skipping the deep copy of substitution when the text cannot hold a placeholder. */
export function readConfig(kind: EntryKind, text: string, environment: EntryEnvironment): unknown {
  const value = parseConfigText(text);
  // A placeholder needs "{$" in the text or a \u escape; most values have neither.
  if (text.includes('{$') || text.includes('\\u')) return prepareConfig(kind, value, environment);
  const normalized = normalizeCwmForms(kind, value, defaultConnectionsOf(environment.env));
  const errors = withConnectionHint(validateConfig(kind, normalized));
  if (errors.length > 0) throw new ConfigError('', `schema: ${errors.join('; ')}`, errors);
  return normalized;
}
