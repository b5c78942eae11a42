/** The pino logger redacts credential headers and secret config fields wherever cwm logs them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
// The check registry declares the signature headers; in cwm it is loaded before any logger is made.
import '../../src/auth/registry.js';
import { createLogger } from '../../src/observability/logger.js';

test('authorization, cookie, signature headers and secret config fields are redacted', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger('info', sink);
  log.info({
    headers: { authorization: 'Bearer A1', cookie: 'c=A2', 'x-hub-signature-256': 'sha256=A3', 'stripe-signature': 't=1,v1=A4', 'webhook-signature': 'v1,A5', 'x-slack-signature': 'v0=A6', 'x-shopify-hmac-sha256': 'A7', 'x-api-key': 'A8', 'user-agent': 'kept' },
    config: { authorization: 'Bearer A9', signature: { secret: 'B1' }, basic_auth: { password: 'B2' }, header_auth: { api_key: 'B3' }, hmac: { secret: 'B4' } },
  }, 'x');
  const text = lines.join('');
  for (const s of ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9', 'B1', 'B2', 'B3', 'B4']) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  assert.ok(text.includes('kept'));
  assert.ok(text.includes('[redacted]'));
});
