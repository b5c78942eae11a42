/** oauth1 (RFC 5849) against headers signed by python (hmac + urllib), not by the code under test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oauth1Check } from '../../src/auth/oauth1.js';
import { pyOAuth1 } from '../helpers/py-vectors.js';
import { compileCheck, statusOf, view } from '../helpers/request-view.js';

const NOW = 1_700_000_000;
const BASE = { consumerKey: 'ck', consumerSecret: 'cs&secret', method: 'POST', url: 'http://hooks.example/webhook/ns/hook' };

test('oauth1 HMAC-SHA1, HMAC-SHA256, PLAINTEXT: valid (query + form body), wrong secret, tampered, stale timestamp, replayed nonce, missing', async () => {
  for (const signatureMethod of ['HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT']) {
    const c = compileCheck(oauth1Check, { consumer_key: 'ck', consumer_secret: 'cs&secret', signature_method: signatureMethod }, { now: () => NOW * 1000 });
    const req = (auth: string, over: { query?: string; body?: string } = {}) =>
      view({ headers: { authorization: auth, host: 'hooks.example', 'content-type': 'application/x-www-form-urlencoded' }, query: over.query ?? 'b=2&a=x y', body: over.body ?? 'c=3&a=1' });
    const sign = (nonce: string, over: Partial<typeof BASE & { timestamp: number; consumerSecret: string }> = {}) =>
      pyOAuth1({ ...BASE, signatureMethod, timestamp: NOW, nonce, query: 'b=2&a=x y', form: 'c=3&a=1', ...over });
    const good = sign('n1');
    assert.equal(await statusOf(c, req(good)), 0, signatureMethod);
    assert.equal(await statusOf(c, req(good)), 401, `${signatureMethod}: nonce replay`);
    assert.equal(await statusOf(c, req(sign('n2', { consumerSecret: 'wrong' }))), 401, 'wrong secret');
    assert.equal(await statusOf(c, req(sign('n3', { timestamp: NOW - 301 }))), 401, 'timestamp out of window');
    assert.equal(await statusOf(c, req('')), 401, 'missing');
    if (signatureMethod !== 'PLAINTEXT') {
      assert.equal(await statusOf(c, req(sign('n4'), { query: 'b=3&a=x y' })), 401, 'query is signed');
      assert.equal(await statusOf(c, req(sign('n5'), { body: 'c=4&a=1' })), 401, 'form body is signed');
    }
  }
});

test('oauth1 public_base_url is the signed origin', async () => {
  const c = compileCheck(oauth1Check, { consumer_key: 'ck', consumer_secret: 'cs&secret', public_base_url: 'https://Hooks.Example:443' }, { now: () => NOW * 1000 });
  const auth = pyOAuth1({ ...BASE, url: 'https://hooks.example/webhook/ns/hook', signatureMethod: 'HMAC-SHA1', timestamp: NOW, nonce: 'z' });
  assert.equal(await statusOf(c, view({ headers: { authorization: auth, host: 'internal:8000' } })), 0);
  const http = pyOAuth1({ ...BASE, signatureMethod: 'HMAC-SHA1', timestamp: NOW, nonce: 'y' });
  assert.equal(await statusOf(c, view({ headers: { authorization: http, host: 'hooks.example' } })), 401, 'signed for another origin');
});
