/**
 * Forms CWM's configs use that the published schema writes one way only,
 * rewritten before validation so the rest of cwm sees one shape: a chain
 * entry given as a bare module name (`"chain": ["log", "s3"]`) becomes
 * `{"module": "log"}`. The rewrite happens on the receiver's own copy; what
 * is stored stays as written.
 */
import type { EntryKind } from './validation.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function normalizeCwmForms(kind: EntryKind, value: unknown): unknown {
  if (kind !== 'webhook' || !isObject(value) || !Object.hasOwn(value, 'chain')) return value;
  const chain = value.chain;
  if (!Array.isArray(chain) || !chain.some((item) => typeof item === 'string')) return value;
  value.chain = chain.map((item: unknown) => (typeof item === 'string' ? { module: item } : item));
  return value;
}
