/**
 * Builds the request checks a webhook config asks for, once per config change.
 * Every configured check must pass. Header checks run before the body is read;
 * signature checks need the raw body. The rate limit runs right after the
 * last authentication check, so unauthenticated traffic never spends a
 * legitimate sender's budget.
 */
import type { Logger } from 'pino';
import type { ConnectionLookup } from '../connections/types.js';
import type { WebhookConfig } from '../config/types.js';
import { headerKeyCheck, queryKeyCheck } from './api-key.js';
import { authorizationCheck } from './authorization.js';
import { basicAuthCheck } from './basic-auth.js';
import { DEFAULT_DEDUPE_TTL_SECONDS, redisDedupe } from './dedupe.js';
import { hmacCheck } from './hmac.js';
import { ipWhitelistCheck } from './ip-whitelist.js';
import { memoryRateLimit } from './rate-limit/memory.js';
import { redisRateLimit } from './rate-limit/redis.js';
import { signatureCheck } from './signature/index.js';
import type { DeliveryDedupe, RequestCheck } from './types.js';

export { AuthConfigError } from './rejections.js';

export interface AuthContext {
  readonly namespace: string;
  readonly id: string;
  readonly connections: ConnectionLookup;
  readonly logger: Logger;
  /** Milliseconds since the epoch; tests pin it to vendors' example timestamps. */
  readonly now?: () => number;
}

function secretList(secret: string | readonly string[]): readonly string[] {
  return typeof secret === 'string' ? [secret] : secret;
}

export function compileChecks(config: WebhookConfig, ctx: AuthContext): RequestCheck[] {
  const now = ctx.now ?? Date.now;
  const checks: RequestCheck[] = [];
  // Cheapest first: an address check needs no secret work at all.
  if (config.ip_whitelist) checks.push(ipWhitelistCheck(config.ip_whitelist));
  if (config.authorization !== undefined) checks.push(authorizationCheck(config.authorization));
  if (config.basic_auth) checks.push(basicAuthCheck(config.basic_auth.username, config.basic_auth.password));
  if (config.header_auth) checks.push(headerKeyCheck(config.header_auth.header_name ?? 'X-API-Key', config.header_auth.api_key));
  if (config.query_auth) checks.push(queryKeyCheck(config.query_auth.parameter_name ?? 'api_key', config.query_auth.api_key));
  if (config.hmac) {
    const h = config.hmac;
    checks.push(hmacCheck({ secrets: secretList(h.secret), header: h.header ?? 'X-HMAC-Signature', algorithm: h.algorithm ?? 'sha256', encoding: h.encoding ?? 'hex', prefix: h.prefix ?? '' }));
  }
  if (config.signature) {
    const s = config.signature;
    checks.push(signatureCheck({ scheme: s.scheme, secrets: secretList(s.secret), toleranceSeconds: s.tolerance_seconds, now }));
  }
  if (config.rate_limit) {
    const r = config.rate_limit;
    const limit = { maxRequests: r.max_requests, windowSeconds: r.window_seconds };
    const phase = checks.some((c) => c.phase === 'body') ? 'body' : 'headers';
    checks.push(
      r.connection
        ? redisRateLimit({ limit, phase, connection: r.connection, connections: ctx.connections, key: `cwm:ratelimit:${ctx.namespace}/${ctx.id}`, logger: ctx.logger })
        : memoryRateLimit(limit, phase, now),
    );
  }
  return checks;
}

/** Headers that carry this webhook's own credentials (custom names included): never forwarded to outputs. */
/** Shared by every webhook without credential headers: one Set each adds up over tens of thousands of webhooks. */
const NO_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set();

export function credentialHeaders(config: WebhookConfig): ReadonlySet<string> {
  if (!config.header_auth && !config.hmac) return NO_CREDENTIAL_HEADERS;
  const names = new Set<string>();
  if (config.header_auth) names.add((config.header_auth.header_name ?? 'X-API-Key').toLowerCase());
  if (config.hmac) names.add((config.hmac.header ?? 'X-HMAC-Signature').toLowerCase());
  return names;
}

export function compileDedupe(config: WebhookConfig, ctx: AuthContext): DeliveryDedupe | undefined {
  const d = config.dedupe;
  if (!d) return undefined;
  return redisDedupe({
    connection: d.connection,
    connections: ctx.connections,
    keyPrefix: `cwm:dedupe:${ctx.namespace}/${ctx.id}:`,
    ttlSeconds: d.ttl_seconds ?? DEFAULT_DEDUPE_TTL_SECONDS,
    logger: ctx.logger,
  });
}
