/**
 * `oauth1` (CWM's block): RFC 5849 §3 signature verification. The base
 * string is `METHOD&enc(base URI)&enc(normalized params)` where the base URI
 * is scheme://host/path (from `public_base_url`, else `http://` + Host; cwm
 * never trusts X-Forwarded-Proto here) and the params are the oauth_*
 * header params (minus oauth_signature), the query and an
 * application/x-www-form-urlencoded body (§3.4.1.3). CWM signed the path
 * only: see README's migration notes. HMAC-SHA1, HMAC-SHA256 and PLAINTEXT;
 * timestamps outside `timestamp_window` are refused; a nonce is accepted once
 * per window, across instances when `nonce_connection` names a Redis.
 */
import { Type } from '@sinclair/typebox';
import { createHmac } from 'node:crypto';
import { redisConnection } from '../connections/redis.js';
import { stringEnum } from '../schema-kit.js';
import { sameBytes } from './constant-time.js';
import { headerValue } from './request-headers.js';
import { storeUnavailable, unauthorized } from './rejections.js';
import { connectionName, secret } from './schema-parts.js';
import { defineCheck } from './types.js';

/** RFC 3986 unreserved characters stay, everything else is %XX (RFC 5849 §3.6). */
export function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const PARAM = /([A-Za-z0-9_.~%-]+)="([^"]*)"/g;

function headerParams(header: string | undefined): [string, string][] | undefined {
  if (header === undefined || !/^oauth[ \t]/i.test(header)) return undefined;
  const out: [string, string][] = [];
  try {
    for (const m of header.slice(6).matchAll(PARAM)) {
      const name = decodeURIComponent(m[1] as string);
      if (name !== 'realm') out.push([name, decodeURIComponent(m[2] as string)]);
    }
  } catch {
    return undefined;
  }
  return out;
}

/** In-process nonce memory for one webhook: nonce → expiry, bounded. */
class NonceMemory {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max = 100_000) {}
  claim(key: string, now: number, ttlMs: number): boolean {
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    if (this.seen.size >= this.max) {
      for (const [k, u] of this.seen) if (u <= now) this.seen.delete(k);
      if (this.seen.size >= this.max) return false;
    }
    this.seen.set(key, now + ttlMs);
    return true;
  }
}

export const oauth1Check = defineCheck({
  field: 'oauth1',
  schema: Type.Object(
    {
      consumer_key: Type.String({ minLength: 1 }),
      consumer_secret: secret,
      token_secret: Type.String({ default: '' }),
      signature_method: stringEnum(['HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT'] as const, { default: 'HMAC-SHA1' }),
      verify_timestamp: Type.Boolean({ default: true }),
      timestamp_window: Type.Integer({ minimum: 1, maximum: 86400, default: 300 }),
      verify_nonce: Type.Boolean({ default: true }),
      public_base_url: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+$' })),
      nonce_connection: Type.Optional(connectionName),
    },
    { additionalProperties: false },
  ),
  phase: 'body',
  order: 36,
  // OpenAPI has no OAuth 1.0 scheme type: the header it travels in.
  describe: () => ({ type: 'apiKey', in: 'header', name: 'Authorization', description: 'OAuth 1.0 (RFC 5849) signed request: Authorization: OAuth ...' }),
  sensitiveHeaders: ['authorization'],
  connections: (config) => (config.nonce_connection === undefined ? [] : [config.nonce_connection]),
  compile(config, ctx) {
    const key = `${enc(config.consumer_secret)}&${enc(config.token_secret)}`;
    const hash = config.signature_method === 'HMAC-SHA256' ? 'sha256' : 'sha1';
    const memory = new NonceMemory();
    const windowMs = config.timestamp_window * 1000;
    const fail = (why: string) => unauthorized(`OAuth 1.0: ${why}`, { 'www-authenticate': 'OAuth realm="cwm"' });
    const baseUri = (host: string | undefined, path: string): string => {
      const origin = config.public_base_url ?? `http://${(host ?? '').toLowerCase().replace(/:80$/, '')}`;
      return `${origin.toLowerCase().replace(/^(https:\/\/[^/]+):443$/, '$1').replace(/^(http:\/\/[^/]+):80$/, '$1')}${path}`;
    };
    const claimNonce = async (nonce: string, ts: string): Promise<boolean | undefined> => {
      const k = `cwm:oauth1:${ctx.namespace}:${ctx.id}:${config.consumer_key}:${ts}:${nonce}`;
      if (config.nonce_connection === undefined) return memory.claim(k, ctx.now(), windowMs * 2);
      try {
        const conn = await ctx.connections.ready(config.nonce_connection, redisConnection);
        const r = await conn.use(() => conn.client.set(k, '1', 'PX', windowMs * 2, 'NX'));
        return r === 'OK';
      } catch (err) {
        ctx.logger.warn({ connection: config.nonce_connection, reason: (err as Error).message }, 'oauth1 nonce store failed; answered 503');
        return undefined;
      }
    };
    return async (req) => {
      const oauth = headerParams(headerValue(req.headers, 'authorization'));
      if (oauth === undefined) return fail('credentials required');
      const get = (name: string): string | undefined => oauth.find(([k]) => k === name)?.[1];
      const signature = get('oauth_signature');
      const method = get('oauth_signature_method');
      const nonce = get('oauth_nonce') ?? '';
      const ts = get('oauth_timestamp') ?? '';
      if (signature === undefined || get('oauth_consumer_key') !== config.consumer_key || method !== config.signature_method) return fail('invalid credentials');
      let expected: string;
      if (config.signature_method === 'PLAINTEXT') {
        expected = key;
      } else {
        const params: [string, string][] = oauth.filter(([k]) => k !== 'oauth_signature');
        for (const [k, v] of req.query) params.push([k, v]);
        const type = headerValue(req.headers, 'content-type') ?? '';
        if (/^application\/x-www-form-urlencoded/i.test(type)) for (const [k, v] of new URLSearchParams(req.rawBody.toString('utf8'))) params.push([k, v]);
        const normalized = params
          .map(([k, v]) => [enc(k), enc(v)] as const)
          .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
          .map(([k, v]) => `${k}=${v}`)
          .join('&');
        const base = `${req.method.toUpperCase()}&${enc(baseUri(headerValue(req.headers, 'host'), req.path))}&${enc(normalized)}`;
        expected = createHmac(hash, key).update(base).digest('base64');
      }
      if (!sameBytes(Buffer.from(expected), Buffer.from(signature))) return fail('invalid signature');
      // Unlike CWM, a missing timestamp is refused too: otherwise the window protects nothing.
      if (config.verify_timestamp && (!/^\d{1,12}$/.test(ts) || Math.abs(ctx.now() - Number(ts) * 1000) > windowMs)) return fail('timestamp missing or out of window');
      if (config.verify_nonce) {
        if (nonce === '') return fail('nonce required');
        const fresh = await claimNonce(nonce, ts);
        if (fresh === undefined) return storeUnavailable;
        if (!fresh) return fail('nonce already used');
      }
      return null;
    };
  },
});
