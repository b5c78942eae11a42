/**
 * oauth2: introspection against a local HTTP server in the test speaking
 * RFC 7662 (a real protocol peer), and local JWT validation against tokens
 * signed by python (not by jose).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { oauth2Check } from '../../src/auth/oauth2.js';
import { pyJwt } from '../helpers/py-vectors.js';
import { compileCheck, statusOf, view } from '../helpers/request-view.js';

const NOW = 1_700_000_000;

async function body(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += String(chunk);
  return s;
}

test('oauth2 introspection: active, inactive, expired, scopes, client auth, cache, endpoint failure, missing token', async (t) => {
  const calls: { auth: string | undefined; form: URLSearchParams }[] = [];
  const tokens = new Map<string, Record<string, unknown>>([
    ['good', { active: true, scope: 'hooks:write read', exp: NOW + 3600 }],
    ['narrow', { active: true, scope: 'read' }],
    ['old', { active: true, scope: 'hooks:write', exp: NOW - 1 }],
  ]);
  const server = createServer((req, res) => {
    void body(req).then((text) => {
      const form = new URLSearchParams(text);
      calls.push({ auth: req.headers.authorization, form });
      if (form.get('token') === 'boom') return res.writeHead(500).end();
      if (form.get('token') === 'hang') return undefined;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tokens.get(form.get('token') ?? '') ?? { active: false }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => (server.closeAllConnections(), server.close()));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  const c = compileCheck(oauth2Check, { introspection_endpoint: `http://127.0.0.1:${addr.port}/introspect`, client_id: 'cid', client_secret: 'cs', required_scope: ['hooks:write'] }, { now: () => NOW * 1000 });
  const bearer = (tok: string) => view({ headers: { authorization: `Bearer ${tok}` } });
  assert.equal(await statusOf(c, bearer('good')), 0);
  assert.equal(calls[0]?.auth, `Basic ${Buffer.from('cid:cs').toString('base64')}`);
  assert.equal(calls[0]?.form.get('token_type_hint'), 'access_token');
  assert.equal(await statusOf(c, bearer('good')), 0);
  assert.equal(calls.length, 1, 'second use answered from the cache');
  assert.equal(await statusOf(c, bearer('narrow')), 401, 'missing scope');
  assert.equal(await statusOf(c, bearer('nope')), 401, 'inactive');
  assert.equal(await statusOf(c, bearer('old')), 401, 'expired');
  assert.equal(await statusOf(c, view()), 401, 'missing');
  assert.equal(await statusOf(c, view({ headers: { authorization: 'Basic good' } })), 401, 'other scheme');
  assert.equal(await statusOf(c, bearer('boom')), 503, 'endpoint error is retryable');
  const ac = new AbortController();
  const cut = c(bearer('hang'), ac.signal);
  setTimeout(() => ac.abort(), 50);
  assert.equal((await cut)?.status, 503, 'cut at the deadline');
});

test('oauth2 local JWT: secret and PEM keys, scopes, expiry, issuer, algorithm confusion', async () => {
  const now = () => NOW * 1000;
  const c = compileCheck(oauth2Check, { jwt_secret: 'k', required_scope: ['a'], issuer: 'idp' }, { now });
  const tok = (claims: Record<string, unknown>, secret = 'k') => view({ headers: { authorization: `Bearer ${pyJwt('HS256', claims, secret).token}` } });
  assert.equal(await statusOf(c, tok({ iss: 'idp', scope: 'a b', exp: NOW + 60 })), 0);
  assert.equal(await statusOf(c, tok({ iss: 'idp', scope: 'b', exp: NOW + 60 })), 401, 'scope');
  assert.equal(await statusOf(c, tok({ iss: 'idp', scope: 'a', exp: NOW - 60 })), 401, 'expired');
  assert.equal(await statusOf(c, tok({ iss: 'other', scope: 'a' })), 401, 'issuer');
  assert.equal(await statusOf(c, tok({ iss: 'idp', scope: 'a' }, 'wrong')), 401, 'signature');
  assert.equal(await statusOf(c, view()), 401, 'missing');
  const rs = pyJwt('RS256', { scope: 'a' });
  const pem = compileCheck(oauth2Check, { jwt_secret: rs.publicPem, required_scope: ['a'] }, { now });
  assert.equal(await statusOf(pem, view({ headers: { authorization: `Bearer ${rs.token}` } })), 0);
  // An HS256 token "signed" with the PEM text as the HMAC secret must not pass.
  const confused = pyJwt('HS256', { scope: 'a' }, rs.publicPem).token;
  assert.equal(await statusOf(pem, view({ headers: { authorization: `Bearer ${confused}` } })), 401);
  assert.throws(() => compileCheck(oauth2Check, {}), /introspection_endpoint/);
  const open = compileCheck(oauth2Check, { validate_token: false });
  assert.equal(await statusOf(open, view({ headers: { authorization: 'Bearer anything' } })), 0, "CWM's validate_token: false");
  assert.equal(await statusOf(open, view()), 401);
});
