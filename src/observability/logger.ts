/** The process logger: pino JSON with credentials, cookies, signatures and secrets redacted. */
import { pino, type Logger, type DestinationStream } from 'pino';
import { BatchedDestination } from './log-destination.js';
import { SENSITIVE_KEYS, sensitiveHeaders } from './sensitive.js';

/** pino paths censored on every line: the sensitive headers under `headers`, and secret keys one and two levels down. */
export function redactPaths(): string[] {
  return [
    ...[...sensitiveHeaders()].map((h) => `headers[${JSON.stringify(h)}]`),
    ...SENSITIVE_KEYS.map((k) => `*.${k}`),
    ...SENSITIVE_KEYS.map((k) => `*.*.${k}`),
  ];
}

const CENSOR = '[redacted]';

/**
 * A child for per-request lines whose top-level fields the caller controls.
 * pino's generic path redaction costs about 40% of such a line, so it is
 * switched off here; the caller passes each object field through
 * censorNested, which gives the same line as the wildcard paths would. The
 * "headers.*" paths only match a top-level `headers` field: such lines must
 * not have one (or must redact it themselves).
 */
export function lineLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  return logger.child(bindings, { redact: { paths: [] } });
}

const sharedLineLoggers = new WeakMap<Logger, Logger>();

/** lineLogger(parent, {}), made once per parent. */
export function sharedLineLogger(parent: Logger): Logger {
  let line = sharedLineLoggers.get(parent);
  if (!line) {
    line = lineLogger(parent, {});
    sharedLineLoggers.set(parent, line);
  }
  return line;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Buffer.isBuffer(value);
}

const SENSITIVE = new Set(SENSITIVE_KEYS);

/**
 * `value` (an object, not an array: JSON gives arrays no named keys) with its
 * sensitive keys censored; a copy only when one was there. One pass over its
 * keys against a Set: ~0.7× the time of looking each sensitive name up with
 * Object.hasOwn (bench scenario micro, a GitHub push payload and its headers).
 */
function censorOwn(value: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    if (!SENSITIVE.has(key) || !Object.hasOwn(value, key)) continue;
    copy ??= { ...value };
    copy[key] = CENSOR;
  }
  return copy ?? value;
}

/** A child one level down as the `*.*.name` paths leave it: objects censored, arrays (indices only) as they are. */
function censorChild(child: unknown): unknown {
  return isObject(child) && !Array.isArray(child) ? censorOwn(child) : child;
}

/** `value` as the logger's wildcard redaction would write it when it is a top-level field (arrays included). */
export function censorNested<T>(value: T): T {
  if (!isObject(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] = value;
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      const censored = censorChild(child);
      if (censored === child) continue;
      if (out === value) out = [...(value as unknown[])];
      out[i] = censored;
    }
    return out as T;
  }
  let out = censorOwn(value);
  let copied = out !== value;
  for (const key in out) {
    const child = out[key];
    const censored = censorChild(child);
    if (censored === child || !Object.hasOwn(out, key)) continue;
    if (!copied) {
      out = { ...out };
      copied = true;
    }
    out[key] = censored;
  }
  return out as T;
}

/** The process logger; without a destination it writes to stdout through a BatchedDestination, flushed on exit. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'cwm' }, redact: { paths: redactPaths(), censor: CENSOR } };
  if (destination) return pino(options, destination);
  const stdout = new BatchedDestination(1);
  process.on('exit', () => stdout.flush());
  return pino(options, stdout);
}

export type { Logger };
