/**
 * `http_webhook`: forwards each delivery's body to a URL and acknowledges
 * only when the target answered 2xx; any other answer, a timeout or an
 * unreachable target → 503 + Retry-After for the sender. One undici Pool per
 * bound webhook (its origin is fixed), closed with it; its sockets connect
 * through the outbound guard. Redirects are not followed (a 3xx is a failure):
 * following one would let the target send cwm past the guard.
 */
import { Type } from '@sinclair/typebox';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type * as Undici from 'undici';
import type { Pool } from 'undici';
import { lazyModule } from '../connections/lazy-module.js';
import { checkTargetHost, guardedLookup, hostOf, OutboundRefusedError } from '../connections/outbound-guard.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError, UnavailableError } from '../errors.js';
import { sensitiveHeaders } from '../observability/sensitive.js';
import { stringEnum } from '../schema-kit.js';
import { defineOutput, errorCode, type OutputSettings } from './types.js';

/** Headers about this hop, never forwarded (CWM's list, plus the body's own framing cwm re-creates). */
const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'content-length', 'content-encoding', 'expect']);
const METHODS: ReadonlyMap<string, 'POST' | 'PUT' | 'PATCH'> = new Map([['POST', 'POST'], ['PUT', 'PUT'], ['PATCH', 'PATCH'], ['post', 'POST'], ['put', 'PUT'], ['patch', 'PATCH']]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,200}$/;
const BAD_VALUE = /[\r\n\0\u2028\u2029\v\f]/;
/** Consecutive unreachable-target failures after which sends fail at once; one trial request per second then. */
const BREAKER_FAILURES = 3;
const HALF_OPEN_AFTER_MS = 1000;
/** undici is loaded with the first pool: ~50 ms and ~6 MB RSS at startup for processes without http_webhook outputs. */
const undici = lazyModule<typeof Undici>('undici');
/** Sockets per webhook: bounds what a slow target can make cwm hold open. */
const MAX_CONNECTIONS = 64;

function usableHeader(name: string, value: string): boolean {
  return TOKEN.test(name) && !BAD_VALUE.test(value) && value.length <= 8192;
}

/** Lower-case header map for the request: forwarded headers first, the configured ones override (CWM's order). */
function headerPlan(cfg: { forward_headers: boolean; headers: Record<string, string>; allowed_headers?: string[] }) {
  const allowed = cfg.allowed_headers ? new Set(cfg.allowed_headers.map((h) => h.toLowerCase())) : undefined;
  const permitted = (name: string): boolean => !HOP_BY_HOP.has(name) && (allowed === undefined || allowed.has(name));
  const custom = new Map<string, string>();
  for (const [name, value] of Object.entries(cfg.headers)) {
    const lower = name.toLowerCase();
    if (!usableHeader(name, value)) throw new ConfigError(`/module-config/headers`, `has an invalid header name or value for ${JSON.stringify(name)}`);
    if (permitted(lower)) custom.set(lower, value.trim());
  }
  const secret = sensitiveHeaders();
  if (!cfg.forward_headers) {
    // Without forwarding only the Content-Type varies: one map per content type seen, not one per request
    // (at most a few per webhook; bounded so a sender varying it cannot grow the cache).
    const byType = new Map<string, ReadonlyMap<string, string>>();
    return (delivery: Delivery): ReadonlyMap<string, string> => {
      const type = delivery.contentType || 'application/json';
      let out = byType.get(type);
      if (!out) {
        out = new Map([['content-type', type], ...custom]);
        if (byType.size < 16) byType.set(type, out);
      }
      return out;
    };
  }
  // A Map, so that a header named __proto__ is just another header.
  return (delivery: Delivery): ReadonlyMap<string, string> => {
    const out = new Map<string, string>();
    // delivery.headers lacks this webhook's credential headers already; the fixed secret ones go too.
    for (const [name, value] of Object.entries(delivery.headers)) {
      if (permitted(name) && !secret.has(name) && usableHeader(name, value)) out.set(name, value.trim());
    }
    out.set('content-type', delivery.contentType || 'application/json');
    // A configured header wins, Content-Type included (as a header given to httpx did in CWM).
    for (const [name, value] of custom) out.set(name, value);
    return out;
  };
}

/** A failure that says the target is unreachable (as opposed to an answer it gave): these open the breaker. */
function unreachable(err: unknown): boolean {
  return err instanceof Error && !(err instanceof TargetAnswered) && !(err instanceof OutboundRefusedError) && err.name !== 'AbortError';
}

class TargetAnswered extends Error {}

function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError('/module-config/url', 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('/module-config/url', 'must be an http:// or https:// URL');
  if (url.username || url.password) throw new ConfigError('/module-config/url', 'must not carry credentials (use module-config.headers)');
  return url;
}

export function policyOf(settings: OutputSettings): { allowLocalhost: boolean; allowPrivate: boolean } {
  return { allowLocalhost: settings.allowLocalhostForTests, allowPrivate: settings.allowPrivateIpConnections };
}

export const httpWebhookOutput = defineOutput({
  name: 'http_webhook',
  schema: Type.Object(
    {
      url: Type.String({ minLength: 1, maxLength: 8192, description: 'http:// or https:// target' }),
      method: stringEnum(['POST', 'PUT', 'PATCH', 'post', 'put', 'patch'], { default: 'POST' }),
      forward_headers: Type.Boolean({ default: false, description: "forward the request's headers (never credentials, hop-by-hop or secret ones)" }),
      headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'added to every request, overriding forwarded ones' }),
      allowed_headers: Type.Optional(Type.Array(Type.String(), { description: 'when set, only these headers (forwarded or configured) are sent' })),
      timeout: Type.Number({ exclusiveMinimum: 0, default: 30, description: 'seconds; OUTPUT_TIMEOUT_MS bounds it too' }),
      allowed_hosts: Type.Optional(Type.Array(Type.String(), { description: 'when non-empty, the url host must be one of these (a restriction, never an exemption from the outbound guard)' })),
    },
    { additionalProperties: false },
  ),
  bind(cfg, _spec, ctx) {
    const url = parseTarget(cfg.url);
    const policy = policyOf(ctx.settings);
    checkTargetHost(hostOf(url), policy, cfg.allowed_hosts, '/module-config/url');
    const timeoutMs = Math.min(cfg.timeout * 1000, ctx.settings.outputTimeoutMs);
    const headersFor = headerPlan(cfg);
    const method = METHODS.get(cfg.method) ?? 'POST';
    const path = `${url.pathname}${url.search}`;
    let pool: Pool | undefined;
    // Made on first send: `cwm validate` and webhooks never hit hold no pool.
    const poolOf = (): Pool =>
      (pool ??= new (undici().Pool)(url.origin, {
        connections: MAX_CONNECTIONS,
        connect: { lookup: guardedLookup(policy), timeout: timeoutMs },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }));
    const breaker: CircuitBreakerPolicy = circuitBreaker(handleWhen(unreachable), { halfOpenAfter: HALF_OPEN_AFTER_MS, breaker: new ConsecutiveBreaker(BREAKER_FAILURES) });
    const log = ctx.logger.child({ output: 'http_webhook' });
    breaker.onBreak(() => log.warn('http_webhook target unreachable; failing sends fast until a trial request succeeds'));
    breaker.onReset(() => log.info('http_webhook target reachable again'));

    return {
      async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
        try {
          await breaker.execute(async () => {
            const res = await poolOf().request({ path, method, headers: headersFor(delivery), body: delivery.rawBody, signal });
            // Drain, so the socket goes back to the pool.
            await res.body.dump();
            if (res.statusCode < 200 || res.statusCode > 299) throw new TargetAnswered(`http_webhook target answered ${res.statusCode}`);
          });
        } catch (err) {
          if (err instanceof TargetAnswered) throw new UnavailableError(err.message);
          if (err instanceof Error && (err.name === 'BrokenCircuitError' || err.name === 'IsolatedCircuitError')) throw new UnavailableError('http_webhook target is unreachable (failing fast)');
          if (err instanceof OutboundRefusedError) throw new UnavailableError(`http_webhook target refused by the outbound guard: ${err.message}`);
          // undici's messages name neither headers nor bodies; the code says what happened.
          throw new UnavailableError(`http_webhook request failed (${errorCode(err)})`, { cause: err });
        }
      },
      async close(): Promise<void> {
        const p = pool;
        pool = undefined;
        if (p) await p.close();
      },
    };
  },
});
