/** The header-phase credential checks, generic hmac, the check order and the in-process rate limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { authorizationCheck } from '../../src/auth/authorization.js';
import { basicAuthCheck } from '../../src/auth/basic-auth.js';
import { headerAuthCheck } from '../../src/auth/header-auth.js';
import { hmacCheck } from '../../src/auth/hmac.js';
import { queryAuthCheck } from '../../src/auth/query-auth.js';
import { rateLimitCheck } from '../../src/auth/rate-limit/index.js';
import { compileWebhook } from '../../src/config/compile.js';
import type { WebhookConfig } from '../../src/config/schema/webhook.js';
import { validateConfig } from '../../src/config/validation.js';
import { LiveConnections } from '../../src/connections/live.js';
import { compileCheck, run, statusOf, view } from '../helpers/request-view.js';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

test('authorization: exact match only', async () => {
  const c = compileCheck(authorizationCheck, 'Bearer s3cret');
  assert.equal(await statusOf(c, view({ headers: { authorization: 'Bearer s3cret' } })), 0);
  for (const wrong of ['Bearer s3cre', 'Bearer s3cret ', 'bearer s3cret', 's3cret', '']) assert.equal(await statusOf(c, view({ headers: { authorization: wrong } })), 401, wrong);
  assert.equal(await statusOf(c, view()), 401);
});

test('basic_auth: both user and password must match; colon in the password is kept', async () => {
  const c = compileCheck(basicAuthCheck, { username: 'alice', password: 'pa:ss' });
  assert.equal(await statusOf(c, view({ headers: { authorization: basic('alice', 'pa:ss') } })), 0);
  assert.equal(await statusOf(c, view({ headers: { authorization: basic('alice', 'pa:ss').replace('Basic', 'basic') } })), 0, 'scheme is case-insensitive');
  assert.equal(await statusOf(c, view({ headers: { authorization: basic('alice', 'pa') } })), 401);
  assert.equal(await statusOf(c, view({ headers: { authorization: basic('bob', 'pa:ss') } })), 401);
  assert.equal(await statusOf(c, view({ headers: { authorization: 'Basic !!!' } })), 401);
  assert.equal(await statusOf(c, view({ headers: { authorization: `Basic ${Buffer.from('alicepa:ss').toString('base64').replace(/=/g, '')}x` } })), 401);
  const r = await run(c, view());
  assert.equal(r?.headers?.['www-authenticate']?.startsWith('Basic'), true);
});

test('header_auth and query_auth: configured names, defaults, exact values', async () => {
  const h = compileCheck(headerAuthCheck, { header_name: 'X-Token', api_key: 'k1' });
  assert.equal(await statusOf(h, view({ headers: { 'x-token': 'k1' } })), 0);
  assert.equal(await statusOf(h, view({ headers: { 'x-token': 'k2' } })), 401);
  assert.equal(await statusOf(h, view({ headers: { 'x-api-key': 'k1' } })), 401);
  const q = compileCheck(queryAuthCheck, { api_key: 'k1' });
  assert.equal(await statusOf(q, view({ query: 'api_key=k1' })), 0);
  assert.equal(await statusOf(q, view({ query: 'api_key=k1x' })), 401);
  assert.equal(await statusOf(q, view({ query: 'other=k1' })), 401);
  assert.equal(await statusOf(q, view({ query: 'api_key=k%31' })), 0, 'percent-decoded like any query value');
});

test('generic hmac: algorithms, encodings, prefix, several secrets', async () => {
  const body = '{"a":1}';
  for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
    for (const encoding of ['hex', 'base64'] as const) {
      const sig = createHmac(algorithm, 'k2').update(body).digest(encoding);
      const c = compileCheck(hmacCheck, { secret: ['k1', 'k2'], header: 'X-Sig', algorithm, encoding, prefix: 'sha=' });
      assert.equal(await statusOf(c, view({ headers: { 'x-sig': `sha=${sig}` }, body })), 0, `${algorithm}/${encoding}`);
      assert.equal(await statusOf(c, view({ headers: { 'x-sig': sig }, body })), 401, 'prefix required');
      assert.equal(await statusOf(c, view({ headers: { 'x-sig': `sha=${sig}` }, body: `${body} ` })), 401);
    }
  }
  const sha1 = compileCheck(hmacCheck, { secret: 'k', header: 'X-Sig', algorithm: 'sha1' });
  const sha256sig = createHmac('sha256', 'k').update(body).digest('hex');
  assert.equal(await statusOf(sha1, view({ headers: { 'x-sig': sha256sig }, body })), 401, 'algorithm is fixed by config');
  assert.equal(await statusOf(sha1, view({ body })), 401);
});

function compiled(config: Record<string, unknown>) {
  assert.deepEqual(validateConfig('webhook', config), []);
  return compileWebhook('ns', 'hook', config as WebhookConfig, { logger: pino({ level: 'silent' }), connections: new LiveConnections(pino({ level: 'silent' })), maxBodyBytes: 1 << 20 });
}

test('every configured check runs; header checks precede body checks; the rate limit follows authentication', async () => {
  const hook = compiled({
    module: 'log',
    ip_whitelist: ['127.0.0.0/8'],
    authorization: 'Bearer t',
    signature: { scheme: 'github', secret: 'gh' },
    rate_limit: { max_requests: 1, window_seconds: 60 },
  });
  assert.deepEqual(hook.checkOrder, ['headers:ip_whitelist', 'headers:authorization', 'body:signature', 'body:rate_limit']);
  assert.deepEqual([hook.headerChecks.length, hook.bodyChecks.length, hook.payloadChecks.length], [2, 2, 0]);
  const headerOnly = compiled({ module: 'log', authorization: 'Bearer t', rate_limit: { max_requests: 1, window_seconds: 60 } });
  assert.deepEqual(headerOnly.checkOrder, ['headers:authorization', 'headers:rate_limit']);
  assert.equal(headerOnly.headerChecks.length, 2);
  assert.equal(headerOnly.bodyChecks.length, 0);
  const nulls = compiled({ module: 'log', authorization: null, basic_auth: null });
  assert.equal(nulls.headerChecks.length, 0, 'null means not configured (CWM writes it)');
});

test('hmac: the <algorithm>=<hex> form GitHub sends is accepted, algorithm case-insensitive, hex case-insensitive', async () => {
  const body = '{"a":1}';
  const hex = createHmac('sha256', 'k').update(body).digest('hex');
  const c = compileCheck(hmacCheck, { secret: 'k', header: 'X-Hub-Signature-256' });
  for (const given of [hex, hex.toUpperCase(), `sha256=${hex}`, `SHA256=${hex}`, `sha256=${hex.toUpperCase()}`]) {
    assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': given }, body })), 0, given);
  }
  for (const wrong of [`sha1=${hex}`, `sha256=${hex}0`, `sha256:${hex}`, '']) {
    assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': wrong }, body })), 401, wrong);
  }
});

test('in-process rate limit: fixed window, 429 with Retry-After, a new window lets requests through', async () => {
  let now = 1_000_000;
  const c = compileCheck(rateLimitCheck, { max_requests: 3, window_seconds: 10 }, { now: () => now });
  for (let i = 0; i < 3; i++) assert.equal(await statusOf(c, view()), 0);
  now += 2500;
  const r = await run(c, view());
  assert.equal(r?.status, 429);
  assert.equal(r?.headers?.['retry-after'], '8');
  now += 7499;
  assert.equal(await statusOf(c, view()), 429);
  assert.equal((await run(c, view()))?.headers?.['retry-after'], '1', 'never 0');
  now += 1;
  assert.equal(await statusOf(c, view()), 0);
});
