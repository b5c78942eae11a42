/** jwt and digest_auth against vectors made by python3 (hmac/hashlib/cryptography), not by jose or the code under test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestAuthCheck, digestParams } from '../../src/auth/digest-auth.js';
import { jwtCheck } from '../../src/auth/jwt.js';
import { pyDigestResponse, pyJwt } from '../helpers/py-vectors.js';
import { compileCheck, run, statusOf, view } from '../helpers/request-view.js';

const NOW = 1_700_000_000;
const now = (): number => NOW * 1000;
const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

test('jwt HS256/384/512: valid, wrong secret, expired (and leeway), not yet valid, missing, wrong alg', async () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    const c = compileCheck(jwtCheck, { secret: 'jwt-secret', algorithm: alg, issuer: 'iss1', audience: 'aud1' }, { now });
    const good = pyJwt(alg, { iss: 'iss1', aud: 'aud1', exp: NOW + 60 }).token;
    assert.equal(await statusOf(c, view(bearer(good))), 0, alg);
    assert.equal(await statusOf(c, view(bearer(pyJwt(alg, { iss: 'iss1', aud: 'aud1', exp: NOW + 60 }, 'other').token))), 401, `${alg} wrong secret`);
    assert.equal(await statusOf(c, view(bearer(pyJwt(alg, { iss: 'iss1', aud: 'aud1', exp: NOW - 10 }).token))), 401, `${alg} expired`);
    assert.equal(await statusOf(c, view(bearer(pyJwt(alg, { iss: 'iss1', aud: 'aud1', nbf: NOW + 30 }).token))), 401, `${alg} nbf`);
    assert.equal(await statusOf(c, view(bearer(pyJwt(alg, { iss: 'other', aud: 'aud1' }).token))), 401, `${alg} issuer`);
    assert.equal(await statusOf(c, view(bearer(pyJwt(alg, { iss: 'iss1', aud: 'other' }).token))), 401, `${alg} audience`);
    assert.equal(await statusOf(c, view()), 401);
    assert.equal(await statusOf(c, view({ headers: { authorization: `Basic ${good}` } })), 401);
    const r = await run(c, view());
    assert.match(r?.headers?.['www-authenticate'] ?? '', /^Bearer/);
  }
  const lenient = compileCheck(jwtCheck, { secret: 'jwt-secret', leeway_seconds: 30 }, { now });
  assert.equal(await statusOf(lenient, view(bearer(pyJwt('HS256', { exp: NOW - 10 }).token))), 0, 'within leeway');
  assert.equal(await statusOf(lenient, view(bearer(pyJwt('HS256', { exp: NOW - 40 }).token))), 401, 'beyond leeway');
  const noExp = compileCheck(jwtCheck, { secret: 'jwt-secret', verify_exp: false, issuer: 'i' }, { now });
  assert.equal(await statusOf(noExp, view(bearer(pyJwt('HS256', { iss: 'i', exp: NOW - 1000 }).token))), 0, 'verify_exp false');
  assert.equal(await statusOf(noExp, view(bearer(pyJwt('HS256', { iss: 'x', exp: NOW - 1000 }).token))), 401, 'verify_exp false still checks issuer');
  const hs384 = compileCheck(jwtCheck, { secret: 'jwt-secret', algorithm: 'HS384' }, { now });
  assert.equal(await statusOf(hs384, view(bearer(pyJwt('HS256', {}).token))), 401, 'algorithm fixed by config');
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
  assert.equal(await statusOf(hs384, view(bearer(none))), 401, 'alg none');
});

test('jwt RS256 and ES256 with PEM public keys', async () => {
  for (const alg of ['RS256', 'ES256', 'ES384']) {
    const good = pyJwt(alg, { exp: NOW + 60 });
    const c = compileCheck(jwtCheck, { secret: good.publicPem, algorithm: alg }, { now });
    assert.equal(await statusOf(c, view(bearer(good.token))), 0, alg);
    assert.equal(await statusOf(c, view(bearer(pyJwt(alg, { exp: NOW + 60 }).token))), 401, `${alg} other key`);
    assert.equal(await statusOf(c, view(bearer(pyJwt(alg, { exp: NOW - 60 }).token))), 401, `${alg} expired`);
  }
  assert.throws(() => compileCheck(jwtCheck, { secret: 'not a pem', algorithm: 'RS256' }), /PEM/);
  assert.throws(() => compileCheck(jwtCheck, { algorithm: 'RS256' }), /secret/);
});

const DIGEST = { username: 'alice', password: 'pa"ss', realm: 'Webhook API' };

function challengeNonce(r: { headers?: Readonly<Record<string, string>> } | null): { nonce: string; stale: boolean } {
  const h = r?.headers?.['www-authenticate'] ?? '';
  const p = digestParams(h);
  assert.ok(p, `a Digest challenge: ${h}`);
  return { nonce: p.get('nonce') ?? '', stale: p.get('stale') === 'true' };
}

function authHeader(algorithm: 'MD5' | 'SHA-256', nonce: string, over: Partial<{ username: string; password: string; uri: string; method: string }> = {}): string {
  const uri = over.uri ?? '/webhook/ns/hook';
  const username = over.username ?? DIGEST.username;
  const response = pyDigestResponse({ algorithm, username, realm: DIGEST.realm, password: over.password ?? DIGEST.password, method: over.method ?? 'POST', uri, nonce, nc: '00000001', cnonce: 'c0ffee' });
  return `Digest username="${username}", realm="${DIGEST.realm}", nonce="${nonce}", uri="${uri}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="c0ffee", response="${response}"`;
}

test('digest_auth MD5 and SHA-256: challenge, valid, wrong password/user/uri, forged nonce, stale nonce, missing', async () => {
  for (const algorithm of ['MD5', 'SHA-256'] as const) {
    let t = NOW;
    const c = compileCheck(digestAuthCheck, { ...DIGEST, algorithm, nonce_lifetime_seconds: 60 }, { now: () => t * 1000 });
    const first = await run(c, view());
    assert.equal(first?.status, 401);
    assert.match(first?.headers?.['www-authenticate'] ?? '', new RegExp(`^Digest realm="Webhook API", qop="auth", algorithm=${algorithm}, nonce="`));
    const { nonce, stale } = challengeNonce(first);
    assert.equal(stale, false);
    assert.equal(await statusOf(c, view({ headers: { authorization: authHeader(algorithm, nonce) } })), 0, algorithm);
    assert.equal(await statusOf(c, view({ headers: { authorization: authHeader(algorithm, nonce, { password: 'nope' }) } })), 401);
    assert.equal(await statusOf(c, view({ headers: { authorization: authHeader(algorithm, nonce, { username: 'bob' }) } })), 401);
    assert.equal(await statusOf(c, view({ headers: { authorization: authHeader(algorithm, nonce, { uri: '/webhook/ns/other' }) } })), 401, 'uri of another path');
    assert.equal(await statusOf(c, view({ method: 'PUT', headers: { authorization: authHeader(algorithm, nonce) } })), 401, 'method is digested');
    const forged = `${NOW}.${'A'.repeat(43)}`;
    const f = await run(c, view({ headers: { authorization: authHeader(algorithm, forged) } }));
    assert.equal(f?.status, 401);
    assert.equal(challengeNonce(f).stale, false, 'a forged nonce is not merely stale');
    t = NOW + 61;
    const s = await run(c, view({ headers: { authorization: authHeader(algorithm, nonce) } }));
    assert.equal(s?.status, 401, 'expired nonce');
    const fresh = challengeNonce(s);
    assert.equal(fresh.stale, true);
    assert.equal(await statusOf(c, view({ headers: { authorization: authHeader(algorithm, fresh.nonce) } })), 0, 'fresh nonce from the stale challenge');
  }
});

test('digest_auth nonces are shared by instances with the same config and differ between webhooks', async () => {
  const a = compileCheck(digestAuthCheck, DIGEST, { now });
  const b = compileCheck(digestAuthCheck, DIGEST, { now });
  const { nonce } = challengeNonce(await run(a, view()));
  assert.equal(await statusOf(b, view({ headers: { authorization: authHeader('MD5', nonce) } })), 0, 'another instance accepts it');
  const other = compileCheck(digestAuthCheck, { ...DIGEST, password: 'other' }, { now });
  assert.equal(await statusOf(other, view({ headers: { authorization: authHeader('MD5', nonce, { password: 'other' }) } })), 401, 'nonce of another key');
});
