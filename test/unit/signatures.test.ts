/**
 * Every signature preset against the vendor's own documented example where
 * one is published (GitHub, Slack, Standard Webhooks), and against values
 * computed independently from the vendor's written algorithm otherwise
 * (Stripe, Shopify), plus wrong secret, tampered body, stale/future
 * timestamps, missing headers, several secrets and several signatures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signatureCheck } from '../../src/auth/signature/index.js';
import type { SignatureScheme } from '../../src/auth/signature/index.js';
import { compileCheck, run, statusOf, view } from '../helpers/request-view.js';

const at = (seconds: number) => () => seconds * 1000;
const check = (scheme: SignatureScheme, secret: string | string[], nowSeconds: number, tolerance?: number) =>
  compileCheck(signatureCheck, tolerance === undefined ? { scheme, secret } : { scheme, secret, tolerance_seconds: tolerance }, { now: at(nowSeconds) });
const hmac = (key: string | Buffer, data: string, enc: 'hex' | 'base64') => createHmac('sha256', key).update(data).digest(enc);

// docs.github.com "Validating webhook deliveries", section "Testing the webhook payload validation".
const GH = { secret: "It's a Secret to Everybody", body: 'Hello, World!', sig: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };

test('github: the documented example validates; wrong secret, tampered body, missing or malformed header do not', async () => {
  const c = check('github', GH.secret, 0);
  assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': GH.sig }, body: GH.body })), 0);
  assert.equal(await statusOf(check('github', 'not the secret', 0), view({ headers: { 'x-hub-signature-256': GH.sig }, body: GH.body })), 401);
  assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': GH.sig }, body: 'Hello, World?' })), 401);
  assert.equal(await statusOf(c, view({ body: GH.body })), 401);
  assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': GH.sig.slice('sha256='.length) }, body: GH.body })), 401, 'prefix is required');
  assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': `${GH.sig}zz` }, body: GH.body })), 401, 'non-hex tail is not ignored');
  assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': GH.sig.toUpperCase().replace('SHA256=', 'sha256=') }, body: GH.body })), 0, 'hex is case-insensitive');
});

test('github: rotation — any configured secret may have signed', async () => {
  const c = check('github', ['new-secret', GH.secret], 0);
  assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': GH.sig }, body: GH.body })), 0);
  const signedWithNew = `sha256=${hmac('new-secret', GH.body, 'hex')}`;
  assert.equal(await statusOf(c, view({ headers: { 'x-hub-signature-256': signedWithNew }, body: GH.body })), 0);
});

// docs.slack.dev / api.slack.com "Verifying requests from Slack", worked example.
const SLACK = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  ts: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  sig: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

test('slack: the documented example validates at its own time; stale, future, tampered, wrong secret and missing headers do not', async () => {
  const ts = Number(SLACK.ts);
  const headers = { 'x-slack-signature': SLACK.sig, 'x-slack-request-timestamp': SLACK.ts };
  assert.equal(await statusOf(check('slack', SLACK.secret, ts + 10), view({ headers, body: SLACK.body })), 0);
  assert.equal(await statusOf(check('slack', SLACK.secret, ts + 301), view({ headers, body: SLACK.body })), 401, 'stale');
  assert.equal(await statusOf(check('slack', SLACK.secret, ts - 301), view({ headers, body: SLACK.body })), 401, 'future');
  assert.equal(await statusOf(check('slack', SLACK.secret, ts + 301, 600), view({ headers, body: SLACK.body })), 0, 'tolerance is configurable');
  assert.equal(await statusOf(check('slack', SLACK.secret, ts), view({ headers, body: `${SLACK.body}&x=1` })), 401);
  assert.equal(await statusOf(check('slack', 'wrong', ts), view({ headers, body: SLACK.body })), 401);
  assert.equal(await statusOf(check('slack', SLACK.secret, ts), view({ headers: { 'x-slack-signature': SLACK.sig }, body: SLACK.body })), 401);
  assert.equal(await statusOf(check('slack', SLACK.secret, ts), view({ headers: { 'x-slack-request-timestamp': SLACK.ts }, body: SLACK.body })), 401);
  const otherTs = { 'x-slack-signature': SLACK.sig, 'x-slack-request-timestamp': String(ts + 1) };
  assert.equal(await statusOf(check('slack', SLACK.secret, ts), view({ headers: otherTs, body: SLACK.body })), 401, 'timestamp is signed');
});

// The Standard Webhooks specification's example (also used by its reference libraries' tests).
const SW = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  ts: '1614265330',
  body: '{"test": 2432232314}',
  sig: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

test('standard-webhooks: the spec example validates; too old and too far in the future are both refused', async () => {
  const ts = Number(SW.ts);
  const headers = { 'webhook-id': SW.id, 'webhook-timestamp': SW.ts, 'webhook-signature': SW.sig };
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts), view({ headers, body: SW.body })), 0);
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts + 301), view({ headers, body: SW.body })), 401);
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts - 301), view({ headers, body: SW.body })), 401);
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts), view({ headers, body: '{"test": 2432232315}' })), 401);
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts), view({ headers: { ...headers, 'webhook-id': 'msg_other' }, body: SW.body })), 401, 'id is signed');
  const { 'webhook-id': _id, ...noId } = headers;
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts), view({ headers: noId, body: SW.body })), 401);
  const { 'webhook-signature': _s, ...noSig } = headers;
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts), view({ headers: noSig, body: SW.body })), 401);
  // The secret is base64: the raw "whsec_..." string as a key must not validate.
  const rawKeySig = `v1,${hmac(SW.secret, `${SW.id}.${SW.ts}.${SW.body}`, 'base64')}`;
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts), view({ headers: { ...headers, 'webhook-signature': rawKeySig }, body: SW.body })), 401);
});

test('standard-webhooks: several space-separated signatures, several secrets, other versions ignored', async () => {
  const ts = Number(SW.ts);
  const list = `v1a,abcd v1,${Buffer.alloc(32).toString('base64')} ${SW.sig}`;
  const headers = { 'webhook-id': SW.id, 'webhook-timestamp': SW.ts, 'webhook-signature': list };
  assert.equal(await statusOf(check('standard-webhooks', [`whsec_${Buffer.from('other key').toString('base64')}`, SW.secret], ts), view({ headers, body: SW.body })), 0);
  assert.equal(await statusOf(check('standard-webhooks', SW.secret, ts), view({ headers: { ...headers, 'webhook-signature': SW.sig.replace('v1,', 'v2,') }, body: SW.body })), 401);
  assert.throws(() => check('standard-webhooks', 'whsec_not base64!', ts), /whsec_/);
});

test('stripe: "t.body" signed with the secret as a plain string; several v1, tolerance, v0 ignored', async () => {
  // Stripe publishes the algorithm but no complete vector; values are computed here from its description.
  const secret = 'whsec_test_secret_used_as_plain_string';
  const t = 1_700_000_000;
  const body = '{"id":"evt_1","object":"event"}';
  const v1 = hmac(secret, `${t}.${body}`, 'hex');
  const c = check('stripe', secret, t + 5);
  assert.equal(await statusOf(c, view({ headers: { 'stripe-signature': `t=${t},v1=${v1}` }, body })), 0);
  assert.equal(await statusOf(c, view({ headers: { 'stripe-signature': `t=${t},v1=${'0'.repeat(64)},v1=${v1},v0=${'1'.repeat(64)}` }, body })), 0, 'any v1 may match');
  assert.equal(await statusOf(c, view({ headers: { 'stripe-signature': `t=${t},v0=${v1}` }, body })), 401, 'only v1 counts');
  assert.equal(await statusOf(c, view({ headers: { 'stripe-signature': `t=${t},v1=${v1}` }, body: `${body} ` })), 401);
  assert.equal(await statusOf(c, view({ headers: { 'stripe-signature': `t=${t + 1},v1=${v1}` }, body })), 401, 'timestamp is signed');
  assert.equal(await statusOf(check('stripe', secret, t + 301), view({ headers: { 'stripe-signature': `t=${t},v1=${v1}` }, body })), 401, 'stale');
  assert.equal(await statusOf(check('stripe', secret, t - 301), view({ headers: { 'stripe-signature': `t=${t},v1=${v1}` }, body })), 401, 'future');
  assert.equal(await statusOf(check('stripe', 'wrong', t), view({ headers: { 'stripe-signature': `t=${t},v1=${v1}` }, body })), 401);
  assert.equal(await statusOf(check('stripe', ['rotated-out', secret], t), view({ headers: { 'stripe-signature': `t=${t},v1=${v1}` }, body })), 0);
  assert.equal(await statusOf(c, view({ headers: { 'stripe-signature': `v1=${v1}` }, body })), 401, 'no timestamp');
  assert.equal(await statusOf(c, view({ body })), 401, 'no header');
  const base64Key = hmac(Buffer.from(secret.slice('whsec_'.length), 'base64'), `${t}.${body}`, 'hex');
  assert.equal(await statusOf(c, view({ headers: { 'stripe-signature': `t=${t},v1=${base64Key}` }, body })), 401, 'the secret is not base64-decoded');
});

test('shopify: base64 HMAC-SHA256 of the raw body', async () => {
  const secret = 'shpss_example_client_secret';
  const body = '{"id":820982911946154508,"email":"jon@example.com"}';
  const sig = hmac(secret, body, 'base64');
  const c = check('shopify', secret, 0);
  assert.equal(await statusOf(c, view({ headers: { 'x-shopify-hmac-sha256': sig }, body })), 0);
  assert.equal(await statusOf(c, view({ headers: { 'x-shopify-hmac-sha256': hmac(secret, body, 'hex') }, body })), 401, 'hex is not base64');
  assert.equal(await statusOf(c, view({ headers: { 'x-shopify-hmac-sha256': sig }, body: body.replace('jon', 'joe') })), 401);
  assert.equal(await statusOf(check('shopify', 'wrong', 0), view({ headers: { 'x-shopify-hmac-sha256': sig }, body })), 401);
  assert.equal(await statusOf(c, view({ body })), 401);
  assert.equal(await statusOf(c, view({ headers: { 'x-shopify-hmac-sha256': `${sig}!!` }, body })), 401, 'trailing garbage is not ignored');
});

test('signature checks run on the body phase and answer 401 without echoing secrets', async () => {
  const c = check('github', 'super-secret-value', 0);
  assert.equal(signatureCheck.phase, 'body');
  const r = await run(c, view({ headers: { 'x-hub-signature-256': 'sha256=00' }, body: 'x' }));
  assert.ok(r && !JSON.stringify(r).includes('super-secret-value'));
});
