/**
 * CWM's Vault reference, the text inside `{$vault:…}`: `path#field` or
 * `path#field:default`. CWM's rules: the path is 1–512 of `A-Za-z0-9_./-`
 * (slashes at its ends dropped), the field 1–128 of `A-Za-z0-9_.-`, neither
 * holds `..`; the default is everything after the field's first `:`.
 */
import { ConfigError } from '../errors.js';

export interface VaultReference {
  readonly path: string;
  readonly field: string;
  /** Used only when Vault answers that the path or the field does not exist. */
  readonly fallback?: string;
}

const PATH = /^[A-Za-z0-9_./-]{1,512}$/;
const FIELD = /^[A-Za-z0-9_.-]{1,128}$/;

/** The reference inside `{$vault:…}` at `pointer`; a ConfigError naming the rule (never the text: its default may be a secret). */
export function parseVaultReference(inside: string, pointer: string): VaultReference {
  const raw = inside.trim();
  const hash = raw.indexOf('#');
  if (raw.length > 1024 || hash === -1) throw new ConfigError(pointer, 'Vault reference must be {$vault:path#field} or {$vault:path#field:default}');
  const path = raw.slice(0, hash).trim().replace(/^\/+|\/+$/g, '');
  if (!PATH.test(path) || path.includes('..')) throw new ConfigError(pointer, 'Vault reference path must be 1-512 of A-Za-z0-9_./- without ".."');
  const rest = raw.slice(hash + 1).trim();
  const colon = rest.indexOf(':');
  const field = (colon === -1 ? rest : rest.slice(0, colon)).trim();
  if (!FIELD.test(field) || field.includes('..')) throw new ConfigError(pointer, 'Vault reference field must be 1-128 of A-Za-z0-9_.- without ".."');
  return colon === -1 ? { path, field } : { path, field, fallback: rest.slice(colon + 1) };
}
