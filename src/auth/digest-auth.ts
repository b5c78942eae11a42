/**
 * `digest_auth` (CWM's block): RFC 7616 HTTP Digest, qop=auth, MD5 or
 * SHA-256. A request without valid credentials gets a 401 with a
 * `WWW-Authenticate: Digest` challenge. Nonces need no shared state: a nonce
 * is `<unix seconds>.<HMAC(key, seconds)>` with the key derived from the
 * webhook's own password, namespace and id, so every instance issues and
 * accepts the same nonces; one older than `nonce_lifetime_seconds` is
 * answered with a fresh challenge marked `stale=true`. (nc is not tracked:
 * within a nonce's lifetime a captured request can be replayed; pair with
 * `dedupe` where that matters.)
 */
import { Type } from '@sinclair/typebox';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { stringEnum } from '../schema-kit.js';
import { digestOf, matchesDigest } from './constant-time.js';
import { headerValue } from './request-headers.js';
import { unauthorized } from './rejections.js';
import { secret } from './schema-parts.js';
import { defineCheck, type Rejection } from './types.js';
import { VerifiedCache } from './verified-cache.js';

const PARAM = /([A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^,\s"]*))/g;

/** The auth-params of a `Digest` Authorization header (quoted strings unescaped), or undefined. Map: hostile names are plain keys. */
export function digestParams(header: string | undefined): Map<string, string> | undefined {
  if (header === undefined || !/^digest[ \t]/i.test(header)) return undefined;
  const params = new Map<string, string>();
  for (const m of header.slice(7).matchAll(PARAM)) {
    const name = (m[1] as string).toLowerCase();
    if (params.has(name)) return undefined;
    params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
  }
  return params;
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

export const digestAuthCheck = defineCheck({
  field: 'digest_auth',
  schema: Type.Object(
    {
      username: Type.String({ minLength: 1 }),
      password: secret,
      realm: Type.String({ minLength: 1, default: 'Webhook API' }),
      algorithm: stringEnum(['MD5', 'SHA-256'] as const, { default: 'MD5' }),
      qop: stringEnum(['auth'] as const, { default: 'auth' }),
      nonce_lifetime_seconds: Type.Integer({ minimum: 1, maximum: 86400, default: 300 }),
    },
    { additionalProperties: false },
  ),
  phase: 'headers',
  order: 31,
  describe: (config) => ({ type: 'http', scheme: 'digest', description: `HTTP Digest authentication (${config.algorithm}, qop=auth; answer the 401 challenge)` }),
  sensitiveHeaders: ['authorization'],
  compile(config, ctx) {
    const hashName = config.algorithm === 'MD5' ? 'md5' : 'sha256';
    const h = (s: string): string => createHash(hashName).update(s).digest('hex');
    const ha1 = h(`${config.username}:${config.realm}:${config.password}`);
    const userDigest = digestOf(config.username);
    // Same on every instance with this config, different per webhook and per password.
    const nonceKey = createHmac('sha256', config.password).update(`cwm digest nonce\0${ctx.namespace}\0${ctx.id}\0${config.realm}`).digest();
    const nonceMac = (ts: string): string => createHmac('sha256', nonceKey).update(ts).digest('base64url');
    const makeNonce = (): string => {
      const ts = String(Math.floor(ctx.now() / 1000));
      return `${ts}.${nonceMac(ts)}`;
    };
    const challenge = (reason: string, stale: boolean): Rejection =>
      unauthorized(reason, {
        'www-authenticate': `Digest realm=${quote(config.realm)}, qop="auth", algorithm=${config.algorithm}, nonce="${makeNonce()}"${stale ? ', stale=true' : ''}`,
      });
    /** 'ok', 'stale' (ours but expired) or 'bad' (not ours). */
    const nonceState = (nonce: string): 'ok' | 'stale' | 'bad' => {
      const dot = nonce.indexOf('.');
      const ts = nonce.slice(0, dot);
      if (dot < 1 || !/^\d{1,12}$/.test(ts)) return 'bad';
      const given = Buffer.from(nonce.slice(dot + 1));
      const expected = Buffer.from(nonceMac(ts));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad';
      const age = Math.floor(ctx.now() / 1000) - Number(ts);
      return age >= -5 && age <= config.nonce_lifetime_seconds ? 'ok' : 'stale';
    };
    const verified = new VerifiedCache();
    return (req) => {
      const header = headerValue(req.headers, 'authorization');
      // A header that verified for this method and path stays valid until its nonce expires.
      const cacheKey = header === undefined ? '' : VerifiedCache.keyOf(`${req.method} ${req.path}\0${header}`);
      if (header !== undefined && verified.has(cacheKey, ctx.now())) return null;
      const p = digestParams(header);
      if (p === undefined) return challenge('digest credentials required', false);
      const username = p.get('username');
      const nonce = p.get('nonce');
      const uri = p.get('uri');
      const response = p.get('response');
      const cnonce = p.get('cnonce');
      const nc = p.get('nc');
      if (username === undefined || nonce === undefined || uri === undefined || response === undefined || cnonce === undefined || nc === undefined) {
        return challenge('incomplete digest credentials', false);
      }
      if (p.get('realm') !== config.realm || (p.get('qop') ?? '').toLowerCase() !== 'auth' || (p.get('algorithm') ?? 'MD5').toUpperCase() !== config.algorithm || !/^[0-9a-fA-F]{8}$/.test(nc)) {
        return challenge('digest parameters do not match the challenge', false);
      }
      // The digested uri must be this request's target, or a signed request for another path could be replayed here.
      // (Its path part: clients differ in how they write the query, which the digest covers anyway.)
      const q = uri.indexOf('?');
      if ((q === -1 ? uri : uri.slice(0, q)) !== req.path) return challenge('digest uri does not match the request', false);
      const state = nonceState(nonce);
      if (state === 'bad') return challenge('unknown digest nonce', false);
      const ha2 = h(`${req.method}:${uri}`);
      const expected = Buffer.from(h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`));
      const given = Buffer.from(response.toLowerCase());
      const responseOk = given.length === expected.length && timingSafeEqual(given, expected);
      const userOk = matchesDigest(userDigest, username);
      if (!(responseOk && userOk)) return challenge('invalid digest credentials', false);
      // Right credentials on an expired nonce: the client retries with the fresh one without asking the user (RFC 7616 §3.3).
      if (state === 'stale') return challenge('stale digest nonce', true);
      verified.add(cacheKey, (Number(nonce.slice(0, nonce.indexOf('.'))) + config.nonce_lifetime_seconds + 1) * 1000);
      return null;
    };
  },
});
