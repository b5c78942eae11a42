/** Typed reads of `module-config` fields; a wrong type is an OutputConfigError naming the field. */
import { OutputConfigError } from './types.js';

type ModuleConfig = Readonly<Record<string, unknown>>;

/** Own properties only: a field named like an Object.prototype member is not "set". */
function field(cfg: ModuleConfig, name: string): unknown {
  return Object.hasOwn(cfg, name) ? cfg[name] : undefined;
}

export function optionalString(cfg: ModuleConfig, name: string): string | undefined {
  const v = field(cfg, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new OutputConfigError(`module-config.${name} must be a non-empty string`);
  return v;
}

export function requiredString(cfg: ModuleConfig, name: string, module: string, what = ''): string {
  const v = optionalString(cfg, name);
  if (v === undefined) throw new OutputConfigError(`${module} needs module-config.${name}${what}`);
  return v;
}

export function optionalBoolean(cfg: ModuleConfig, name: string): boolean | undefined {
  const v = field(cfg, name);
  if (v !== undefined && typeof v !== 'boolean') throw new OutputConfigError(`module-config.${name} must be a boolean`);
  return v;
}

export function optionalInteger(cfg: ModuleConfig, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = field(cfg, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new OutputConfigError(`module-config.${name} must be an integer from ${min} to ${max}`);
  return v;
}

export function optionalEnum<T extends string>(cfg: ModuleConfig, name: string, allowed: readonly T[]): T | undefined {
  const v = field(cfg, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new OutputConfigError(`module-config.${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** `true`, `false` or a non-negative count (BullMQ's remove_on_complete / remove_on_fail). */
export function optionalBooleanOrCount(cfg: ModuleConfig, name: string): boolean | number | undefined {
  const v = field(cfg, name);
  if (v === undefined || typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new OutputConfigError(`module-config.${name} must be a boolean or a non-negative integer`);
}
