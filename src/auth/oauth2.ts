/**
 * `oauth2` (CWM's block): a bearer token checked by RFC 7662 introspection
 * (`introspection_endpoint`, client credentials by HTTP Basic) or validated
 * locally as a JWT (`jwt_secret`), then `required_scope` ⊆ its scopes.
 * Introspection answers are cached by token digest (bounded size, TTL capped
 * by the token's `exp`); the call honours the request deadline (503 when it
 * is cut, or when the endpoint fails: not the sender's fault).
 */
import { Type } from '@sinclair/typebox';
import { createHash } from 'node:crypto';
import { errors } from 'jose';
import { ConfigError } from '../errors.js';
import { stringEnum } from '../schema-kit.js';
import { bearerToken, JWT_ALGORITHMS, staticKey, verifyJwt, type Key } from './jwt.js';
import { headerValue } from './request-headers.js';
import { storeUnavailable, unauthorized } from './rejections.js';
import { defineCheck, type CheckResult } from './types.js';

interface Introspected {
  readonly active: boolean;
  readonly scopes: ReadonlySet<string>;
  readonly expiresAt: number;
}

function scopesOf(value: unknown): Set<string> {
  if (typeof value === 'string') return new Set(value.split(/\s+/).filter((s) => s !== ''));
  if (Array.isArray(value)) return new Set(value.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const oauth2Check = defineCheck({
  field: 'oauth2',
  schema: Type.Object(
    {
      token_type: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', default: 'Bearer' }),
      introspection_endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
      client_id: Type.Optional(Type.String({ minLength: 1 })),
      client_secret: Type.Optional(Type.String({ minLength: 1 })),
      required_scope: Type.Array(Type.String({ minLength: 1 }), { maxItems: 50, default: [] }),
      validate_token: Type.Boolean({ default: true }),
      jwt_secret: Type.Optional(Type.String({ minLength: 1 })),
      jwt_algorithms: Type.Array(stringEnum(JWT_ALGORITHMS), { minItems: 1, maxItems: 12, default: ['HS256', 'RS256'] }),
      audience: Type.Optional(Type.String({ minLength: 1 })),
      issuer: Type.Optional(Type.String({ minLength: 1 })),
      verify_exp: Type.Boolean({ default: true }),
      cache_seconds: Type.Integer({ minimum: 0, maximum: 3600, default: 60 }),
      cache_size: Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 }),
    },
    { additionalProperties: false },
  ),
  phase: 'headers',
  order: 33,
  // A bearer access token; the introspection endpoint (often internal) is not published.
  describe: (config) => ({ type: 'http', scheme: 'bearer', description: `an OAuth 2.0 access token${config.required_scope.length > 0 ? ` with scope ${config.required_scope.join(' ')}` : ''}` }),
  sensitiveHeaders: ['authorization'],
  compile(config, ctx) {
    const scheme = new RegExp(`^${config.token_type}[ \\t]+(\\S+)[ \\t]*$`, 'i');
    const missing = unauthorized('missing OAuth 2.0 token', { 'www-authenticate': `${config.token_type} realm="cwm"` });
    const invalid = (why: string): CheckResult => unauthorized(`invalid OAuth 2.0 token: ${why}`, { 'www-authenticate': `${config.token_type} realm="cwm", error="invalid_token"` });
    const noScope = unauthorized('OAuth 2.0 token missing required scopes', { 'www-authenticate': `${config.token_type} realm="cwm", error="insufficient_scope"` });
    const hasScopes = (scopes: ReadonlySet<string>): boolean => config.required_scope.every((s) => scopes.has(s));
    const tokenOf = (h: string | undefined): string | undefined => (h === undefined ? undefined : scheme.exec(h)?.[1]);

    if (config.introspection_endpoint !== undefined && config.validate_token) {
      const endpoint = config.introspection_endpoint;
      const auth = config.client_id !== undefined && config.client_secret !== undefined ? `Basic ${Buffer.from(`${encodeURIComponent(config.client_id)}:${encodeURIComponent(config.client_secret)}`).toString('base64')}` : undefined;
      // Keyed by the token's digest: the cache never holds a usable token.
      const cache = new Map<string, Introspected>();
      const introspect = async (token: string, signal: AbortSignal): Promise<Introspected | undefined> => {
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
        if (auth !== undefined) headers.authorization = auth;
        try {
          const res = await fetch(endpoint, { method: 'POST', headers, body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(), signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
          if (!res.ok) {
            ctx.logger.warn({ status: res.status }, 'oauth2 introspection failed; answered 503');
            return undefined;
          }
          const body: unknown = await res.json();
          if (!isRecord(body)) return undefined;
          const nowS = ctx.now() / 1000;
          const exp = typeof body.exp === 'number' ? body.exp : Infinity;
          return { active: body.active === true && exp > nowS, scopes: scopesOf(body.scope), expiresAt: Math.min(ctx.now() + config.cache_seconds * 1000, exp * 1000) };
        } catch (err) {
          ctx.logger.warn({ reason: (err as Error).name }, 'oauth2 introspection did not answer; answered 503');
          return undefined;
        }
      };
      return async (req, signal) => {
        const token = tokenOf(headerValue(req.headers, 'authorization'));
        if (token === undefined) return missing;
        const key = createHash('sha256').update(token).digest('base64');
        let entry = cache.get(key);
        if (entry !== undefined && entry.expiresAt <= ctx.now()) {
          cache.delete(key);
          entry = undefined;
        }
        if (entry === undefined) {
          entry = await introspect(token, signal);
          if (entry === undefined) return storeUnavailable;
          if (config.cache_seconds > 0) {
            // Oldest first out: Map keeps insertion order.
            if (cache.size >= config.cache_size) cache.delete(cache.keys().next().value as string);
            cache.set(key, entry);
          }
        }
        if (!entry.active) return invalid('not active');
        return hasScopes(entry.scopes) ? null : noScope;
      };
    }

    if (config.jwt_secret !== undefined) {
      const pem = config.jwt_secret.includes('-----BEGIN PUBLIC KEY-----');
      // A PEM key only verifies asymmetric algorithms and a shared secret only HMAC: no algorithm confusion.
      const algorithms = config.jwt_algorithms.filter((a) => a.startsWith('HS') !== pem);
      if (algorithms.length === 0) throw new ConfigError('/jwt_algorithms', pem ? 'lists no asymmetric algorithm for a PEM key' : 'lists no HS* algorithm for a shared secret');
      const secret = config.jwt_secret;
      const keys = new Map<string, Uint8Array | Promise<Key>>(algorithms.map((a) => [a, staticKey('/jwt_secret', secret, a)]));
      const keyFor = async (header: { alg?: string }): Promise<Key> => {
        const k = keys.get(header.alg ?? '');
        // jose has already refused an algorithm outside `algorithms`; this is the same refusal.
        if (k === undefined) throw new errors.JOSEAlgNotAllowed('algorithm not allowed');
        return k;
      };
      return async (req, signal) => {
        const token = bearerToken(`Bearer ${tokenOf(headerValue(req.headers, 'authorization')) ?? ''}`);
        if (token === undefined) return missing;
        const r = await verifyJwt(token, keyFor, {
          algorithms,
          currentDate: new Date(ctx.now()),
          ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
          ...(config.audience === undefined ? {} : { audience: config.audience }),
        }, config.verify_exp, signal, (why) => invalid(why));
        if (!r.ok) return r.rejection;
        return hasScopes(scopesOf(r.claims.scope ?? r.claims.scp)) ? null : noScope;
      };
    }

    if (config.validate_token) throw new ConfigError('', 'needs "introspection_endpoint" or "jwt_secret" (or "validate_token": false)');
    // CWM's validate_token: false without a validator: any token of the scheme passes.
    return (req) => (tokenOf(headerValue(req.headers, 'authorization')) === undefined ? missing : null);
  },
});
