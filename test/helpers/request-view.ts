/** Builds the RequestView an auth check sees, and compiles one check as the receiver would, for unit tests of checks without a server. */
import type { IncomingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import type { CheckModule, CheckRun, RequestView } from '../../src/auth/types.js';
import { LiveConnections } from '../../src/connections/live.js';
import type { ConnectionLookup } from '../../src/connections/types.js';
import { validateConfig } from '../../src/config/validation.js';

export function view(parts: { headers?: IncomingHttpHeaders; query?: string; clientIp?: string; body?: string | Buffer; payload?: unknown; method?: string; path?: string } = {}): RequestView {
  return {
    method: parts.method ?? 'POST',
    path: parts.path ?? '/webhook/ns/hook',
    headers: parts.headers ?? {},
    query: new URLSearchParams(parts.query ?? ''),
    clientIp: parts.clientIp ?? '127.0.0.1',
    namespace: 'ns',
    webhookId: 'hook',
    rawBody: typeof parts.body === 'string' ? Buffer.from(parts.body) : (parts.body ?? Buffer.alloc(0)),
    payload: parts.payload,
  };
}

const NEVER = new AbortController().signal;

/** The status a check answers: 0 when it lets the request through. */
export async function statusOf(check: CheckRun, req: RequestView, signal: AbortSignal = NEVER): Promise<number> {
  const r = await check(req, signal);
  return r === null ? 0 : r.status;
}

export async function run(check: CheckRun, req: RequestView) {
  return check(req, NEVER);
}

/**
 * `config` as the `check.field` block of a log webhook, validated by the
 * published schema (defaults filled in, an invalid block throws), then
 * compiled by the check itself.
 */
export function compileCheck(check: CheckModule, config: unknown, options: { now?: () => number; connections?: ConnectionLookup } = {}): CheckRun {
  const webhook: Record<string, unknown> = { module: 'log' };
  Object.defineProperty(webhook, check.field, { value: config, enumerable: true, writable: true, configurable: true });
  const errors = validateConfig('webhook', webhook);
  if (errors.length > 0) throw new Error(`invalid ${check.field}: ${errors.join('; ')}`);
  return check.compile(webhook[check.field], {
    namespace: 'ns',
    id: 'hook',
    connections: options.connections ?? new LiveConnections(pino({ level: 'silent' })),
    logger: pino({ level: 'silent' }),
    now: options.now ?? Date.now,
  });
}
