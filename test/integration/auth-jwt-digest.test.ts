/**
 * jwt and digest_auth through a running cwm: curl's own Digest implementation
 * answers the challenge, python signs the JWTs, a local HTTP server in the
 * test serves the JWKS (a real HTTP peer), and one that never answers shows
 * the request cut at OUTPUT_TIMEOUT_MS with a 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { makeConfigDir } from '../helpers/config-dir.js';
import { startCwm } from '../helpers/cwm-process.js';
import { pyJwt } from '../helpers/py-vectors.js';

const run = promisify(execFile);

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}

async function curlStatus(args: string[]): Promise<number> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json', '--data', '{"a":1}', ...args]);
  return Number(stdout);
}

test('jwt (PEM, JWKS, hung JWKS), oauth2 (introspection, hung endpoint), recaptcha (local siteverify stand-in) and digest_auth (curl --digest) against a running cwm', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const rs = pyJwt('RS256', { exp: now + 600, iss: 'idp' }, '', 'k1');
  const hs = pyJwt('HS256', { exp: now + 600 }, 'jwt-secret');
  let jwksHits = 0;
  const jwks = await listen((_req, res) => {
    jwksHits += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rs.jwk] }));
  });
  const hung = await listen(() => undefined); // accepts and never answers
  // RFC 7662 introspection endpoint: a real HTTP peer in the test.
  const introspection = await listen((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const active = new URLSearchParams(text).get('token') === 'opaque-good';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(active ? { active: true, scope: 'hooks' } : { active: false }));
    });
  });
  // A small local stand-in for Google's siteverify (documented form POST, JSON answer).
  const siteverify = await listen((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(text);
      const ok = form.get('secret') === 'site-secret' && form.get('response') === 'human';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { success: true, score: 0.9 } : { success: false }));
    });
  });
  const dir = makeConfigDir();
  dir.write('webhooks.json', {
    hs: { module: 'log', jwt: { secret: 'jwt-secret' } },
    pem: { module: 'log', jwt: { secret: rs.publicPem, algorithm: 'RS256', issuer: 'idp' } },
    jwks: { module: 'log', jwt: { jwks_url: `${jwks.url}/jwks.json`, algorithm: 'RS256' } },
    hung: { module: 'log', jwt: { jwks_url: `${hung.url}/jwks.json`, algorithm: 'RS256' } },
    o2: { module: 'log', oauth2: { introspection_endpoint: `${introspection.url}/introspect`, required_scope: ['hooks'] } },
    o2hung: { module: 'log', oauth2: { introspection_endpoint: `${hung.url}/introspect` } },
    cap: { module: 'log', recaptcha: { secret_key: 'site-secret' } },
    dig: { module: 'log', digest_auth: { username: 'alice', password: 'wonder land' } },
    dig256: { module: 'log', digest_auth: { username: 'alice', password: 'wonder land', algorithm: 'SHA-256' } },
  });
  dir.write('connections.json', {});
  const cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: '500', RECAPTCHA_VERIFY_URL: `${siteverify.url}/recaptcha/api/siteverify` });
  t.after(async () => {
    await cwm.stop();
    jwks.server.close();
    introspection.server.close();
    siteverify.server.close();
    hung.server.closeAllConnections();
    hung.server.close();
    dir.remove();
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  assert.equal((await cwm.post('/webhook/hs', { a: 1 }, bearer(hs.token))).status, 200);
  assert.equal((await cwm.post('/webhook/hs', { a: 1 }, bearer(pyJwt('HS256', { exp: now + 600 }, 'wrong').token))).status, 401);
  assert.equal((await cwm.post('/webhook/hs', { a: 1 }, bearer(pyJwt('HS256', { exp: now - 600 }, 'jwt-secret').token))).status, 401, 'expired');
  assert.equal((await cwm.post('/webhook/hs', { a: 1 })).status, 401, 'missing');
  assert.equal((await cwm.post('/webhook/pem', { a: 1 }, bearer(rs.token))).status, 200);
  for (let i = 0; i < 3; i += 1) assert.equal((await cwm.post('/webhook/jwks', { a: 1 }, bearer(rs.token))).status, 200);
  assert.equal(jwksHits, 1, 'the key set is fetched once and cached');
  assert.equal((await cwm.post('/webhook/jwks', { a: 1 }, bearer(pyJwt('RS256', { exp: now + 600 }, '', 'k1').token))).status, 401, 'other key with the same kid');

  const started = Date.now();
  const cut = await cwm.post('/webhook/hung', { a: 1 }, bearer(rs.token));
  assert.equal(cut.status, 503, 'a JWKS that never answers is cut at the deadline');
  assert.ok(cut.headers.get('retry-after'));
  assert.ok(Date.now() - started < 4500, 'answered at OUTPUT_TIMEOUT_MS, before the 5 s JWKS timeout');

  assert.equal((await cwm.post('/webhook/o2', { a: 1 }, { authorization: 'Bearer opaque-good' })).status, 200, 'oauth2 introspection');
  assert.equal((await cwm.post('/webhook/o2', { a: 1 }, { authorization: 'Bearer opaque-bad' })).status, 401);
  assert.equal((await cwm.post('/webhook/o2', { a: 1 })).status, 401);
  assert.equal((await cwm.post('/webhook/o2hung', { a: 1 }, { authorization: 'Bearer opaque-good' })).status, 503, 'introspection that never answers is cut at the deadline');

  assert.equal((await cwm.post('/webhook/cap', { a: 1 }, { 'x-recaptcha-token': 'human' })).status, 200, 'recaptcha');
  assert.equal((await cwm.post('/webhook/cap', { a: 1 }, { 'x-recaptcha-token': 'bot' })).status, 401);
  assert.equal((await cwm.post('/webhook/cap', { a: 1 })).status, 401);

  for (const path of ['dig', 'dig256']) {
    const url = `${cwm.baseUrl}/webhook/${path}`;
    assert.equal(await curlStatus(['--digest', '-u', 'alice:wonder land', url]), 200, `${path}: curl --digest`);
    assert.equal(await curlStatus(['--digest', '-u', 'alice:wrong', url]), 401, `${path}: wrong password`);
    assert.equal(await curlStatus(['--digest', '-u', 'bob:wonder land', url]), 401, `${path}: wrong user`);
    assert.equal(await curlStatus([url]), 401, `${path}: missing`);
    const challenge = await cwm.post(`/webhook/${path}`, { a: 1 });
    assert.match(challenge.headers.get('www-authenticate') ?? '', /^Digest realm="Webhook API", qop="auth", algorithm=(MD5|SHA-256), nonce="\d+\.[A-Za-z0-9_-]+"$/);
    assert.equal(await curlStatus(['-H', `authorization: Digest username="alice", realm="Webhook API", nonce="${Math.floor(Date.now() / 1000) - 1000}.AAAA", uri="/webhook/${path}", qop=auth, nc=00000001, cnonce="x", response="00"`, url]), 401, 'forged nonce');
  }
});
