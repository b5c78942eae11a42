/**
 * `jwt` (CWM's block): `Authorization: Bearer <JWT>` verified with jose
 * against a configured key (`secret`: HMAC secret or PEM public key) or a
 * JWKS URL. The algorithm is fixed by config (no `alg` confusion, no `none`);
 * issuer and audience are checked when set; exp/nbf with `leeway_seconds`.
 * Keys are imported once per config; a JWKS is fetched through jose's cached
 * remote key set, and a request waits for it no longer than its deadline.
 */
import { Type } from '@sinclair/typebox';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions, type CryptoKey as JoseKey } from 'jose';
import { ConfigError } from '../errors.js';
import { stringEnum } from '../schema-kit.js';
import { headerValue } from './request-headers.js';
import { storeUnavailable, unauthorized } from './rejections.js';
import { defineCheck, type CheckResult } from './types.js';
import { VerifiedCache } from './verified-cache.js';

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'] as const;

const BEARER = /^bearer[ \t]+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)[ \t]*$/i;

export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : BEARER.exec(header);
  return m ? (m[1] as string) : undefined;
}

export type Key = Uint8Array | JoseKey;
export type KeySource = Key | JWTVerifyGetKey | Promise<Key>;

/** The key jose verifies with, imported once: HMAC secret bytes, a PEM public key, or a remote JWKS. */
export function keySource(pointer: string, secret: string | undefined, jwksUrl: string | undefined, algorithm: string, jwksTimeoutMs: number): KeySource {
  if (jwksUrl !== undefined) {
    if (!/^https?:\/\//i.test(jwksUrl)) throw new ConfigError(`${pointer}/jwks_url`, 'must be an http(s) URL');
    return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: jwksTimeoutMs, cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
  }
  if (secret === undefined) throw new ConfigError(pointer, 'needs "secret" or "jwks_url"');
  return staticKey(pointer, secret, algorithm);
}

/** A configured HMAC secret or PEM public key, imported once. */
export function staticKey(pointer: string, secret: string, algorithm: string): Uint8Array | Promise<Key> {
  if (algorithm.startsWith('HS')) return new TextEncoder().encode(secret);
  if (!secret.includes('-----BEGIN PUBLIC KEY-----')) throw new ConfigError(`${pointer}/secret`, `must be a PEM public key (SPKI) for ${algorithm}`);
  const imported = importSPKI(secret, algorithm);
  // A bad PEM surfaces on the first request as a rejection; keep the rejection from going unhandled before then.
  imported.catch(() => undefined);
  return imported;
}

export type Verified = { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly rejection: CheckResult };

const timedOut = storeUnavailable;

/** Verifies `token`; a remote key set that does not answer before `signal` aborts yields a 503. */
export async function verifyJwt(token: string, key: KeySource, options: JWTVerifyOptions, verifyExp: boolean, signal: AbortSignal, fail: (reason: string) => CheckResult): Promise<Verified> {
  const attempt = async (opts: JWTVerifyOptions): Promise<Readonly<Record<string, unknown>>> => {
    const k = await key;
    const result = typeof k === 'function' ? await jwtVerify(token, k, opts) : await jwtVerify(token, k, opts);
    return result.payload;
  };
  const race = <T>(p: Promise<T>): Promise<T | typeof ABORTED> =>
    signal.aborted
      ? Promise.resolve(ABORTED)
      : new Promise((resolve, reject) => {
          const onAbort = (): void => resolve(ABORTED);
          signal.addEventListener('abort', onAbort, { once: true });
          p.then(
            (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
            (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
          );
        });
  try {
    const claims = await race(attempt(options));
    return claims === ABORTED ? { ok: false, rejection: timedOut } : { ok: true, claims };
  } catch (err) {
    if (err instanceof errors.JWTExpired && !verifyExp && typeof err.payload.exp === 'number') {
      // CWM's verify_exp: false. Everything but the expiry is still checked, as of just before it.
      try {
        const claims = await race(attempt({ ...options, currentDate: new Date((err.payload.exp - 1) * 1000) }));
        return claims === ABORTED ? { ok: false, rejection: timedOut } : { ok: true, claims };
      } catch (again) {
        return { ok: false, rejection: fail(reason(again)) };
      }
    }
    // The key set could not be fetched (timeout, network, bad answer): not the sender's fault, retryable.
    if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) return { ok: false, rejection: timedOut };
    return { ok: false, rejection: fail(reason(err)) };
  }
}

const ABORTED = Symbol('aborted');

function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim} ${err.reason === 'check_failed' ? 'mismatch' : err.reason}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no matching key';
  return 'invalid token';
}

export const jwtCheck = defineCheck({
  field: 'jwt',
  schema: Type.Object(
    {
      secret: Type.Optional(Type.String({ minLength: 1 })),
      jwks_url: Type.Optional(Type.String({ minLength: 1 })),
      algorithm: stringEnum(JWT_ALGORITHMS, { default: 'HS256' }),
      issuer: Type.Optional(Type.String({ minLength: 1 })),
      audience: Type.Optional(Type.String({ minLength: 1 })),
      verify_exp: Type.Boolean({ default: true }),
      leeway_seconds: Type.Integer({ minimum: 0, maximum: 3600, default: 0 }),
      jwks_timeout_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 5000 }),
    },
    { additionalProperties: false },
  ),
  phase: 'headers',
  order: 32,
  describe: (config) => ({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `a JWT signed with ${config.algorithm}` }),
  sensitiveHeaders: ['authorization'],
  compile(config, ctx) {
    const key = keySource('', config.secret, config.jwks_url, config.algorithm, config.jwks_timeout_ms);
    const missing = unauthorized('missing bearer JWT', { 'www-authenticate': 'Bearer realm="cwm"' });
    const fail = (why: string): CheckResult => unauthorized(`invalid JWT: ${why}`, { 'www-authenticate': 'Bearer realm="cwm", error="invalid_token"' });
    const base: JWTVerifyOptions = {
      algorithms: [config.algorithm],
      clockTolerance: config.leeway_seconds,
      ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
      ...(config.audience === undefined ? {} : { audience: config.audience }),
    };
    const verified = new VerifiedCache();
    const verify = async (token: string, cacheKey: string, now: number, signal: AbortSignal): Promise<CheckResult> => {
      const r = await verifyJwt(token, key, { ...base, currentDate: new Date(now) }, config.verify_exp, signal, fail);
      if (!r.ok) return r.rejection;
      // Same token, same answer until it expires (or, without exp, for a minute: a JWKS key may be withdrawn).
      const exp = r.claims.exp;
      const until = typeof exp === 'number' && config.verify_exp ? Math.min(now + 60_000, (exp + config.leeway_seconds) * 1000) : now + 60_000;
      verified.add(cacheKey, until);
      return null;
    };
    // Synchronous on a cache hit: no promise, no deadline race for a token already verified.
    return (req, signal) => {
      const token = bearerToken(headerValue(req.headers, 'authorization'));
      if (token === undefined) return missing;
      const now = ctx.now();
      const cacheKey = VerifiedCache.keyOf(token);
      if (verified.has(cacheKey, now)) return null;
      return verify(token, cacheKey, now, signal);
    };
  },
});
