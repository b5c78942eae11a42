/**
 * recaptcha against a small local stand-in for Google's siteverify endpoint
 * (the documented form POST of secret/response/remoteip, JSON answer with
 * success, score, error-codes); RECAPTCHA_VERIFY_URL points the check at it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { recaptchaCheck } from '../../src/auth/recaptcha.js';
import { compileCheck, statusOf, view } from '../helpers/request-view.js';

test('recaptcha v2 and v3: valid, wrong, low score, expired, missing, header and body sources, endpoint down, deadline', async (t) => {
  const forms: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(text);
      forms.push(form);
      const token = form.get('response');
      if (token === 'hang') return;
      if (token === 'boom') return void res.writeHead(500).end();
      const ok = form.get('secret') === 'site-secret' && (token === 'human' || token === 'bot');
      const answer = ok ? { success: true, score: token === 'human' ? 0.9 : 0.1 } : { success: false, 'error-codes': [token === 'old' ? 'timeout-or-duplicate' : 'invalid-input-response'] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => (server.closeAllConnections(), server.close()));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  process.env.RECAPTCHA_VERIFY_URL = `http://127.0.0.1:${addr.port}/recaptcha/api/siteverify`;
  const v3 = compileCheck(recaptchaCheck, { secret_key: 'site-secret' });
  const h = (tok: string) => view({ headers: { 'x-recaptcha-token': tok }, clientIp: '192.0.2.7' });
  assert.equal(await statusOf(v3, h('human')), 0);
  assert.equal(forms[0]?.get('remoteip'), '192.0.2.7');
  assert.equal(await statusOf(v3, h('bot')), 401, 'score below 0.5');
  assert.equal(await statusOf(v3, h('forged')), 401);
  assert.equal(await statusOf(v3, h('old')), 401, 'expired or reused token');
  assert.equal(await statusOf(v3, view()), 401, 'missing');
  assert.equal(await statusOf(v3, h('boom')), 503, 'endpoint failure is retryable');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  assert.equal(await statusOf(v3, h('hang'), ac.signal), 503, 'cut at the deadline');
  const v2 = compileCheck(recaptchaCheck, { secret_key: 'site-secret', version: 'v2', token_source: 'body' });
  assert.equal(await statusOf(v2, view({ payload: { 'g-recaptcha-response': 'bot' } })), 0, 'v2 has no score');
  assert.equal(await statusOf(v2, view({ payload: { recaptcha_token: 'forged' } })), 401);
  assert.equal(await statusOf(v2, view({ payload: { other: 'human' } })), 401, 'missing in body');
  const wrongSecret = compileCheck(recaptchaCheck, { secret_key: 'other', min_score: 0.1 });
  assert.equal(await statusOf(wrongSecret, h('human')), 401);
});
