/**
 * Property-based fuzzing of the request path with fast-check against a real
 * cwm process: random methods, paths (traversal, percent-encoding, unicode,
 * prototype names), headers and bodies. Every answer must be a status of
 * DESIGN §3 (or the parser layer's 400/431) with a JSON body, and the process
 * must stay healthy. The run count is bounded to keep the file fast.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { configDirWith } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { rawRequest } from '../helpers/raw-http.js';

const TABLE = new Set([200, 400, 401, 403, 404, 405, 413, 415, 422, 429, 431, 503]);
let cwm: CwmProcess;

before(async () => {
  const dir = configDirWith(
    '{"open": {"module": "log"}, "__proto__": {"module": "log"},' +
      ' "guarded": {"module": "log", "authorization": "Bearer t", "json_schema": {"type": "object", "required": ["a"]}, "rate_limit": {"max_requests": 50, "window_seconds": 60}, "max_body_bytes": 2048},' +
      ' "signed": {"module": "log", "signature": {"scheme": "standard-webhooks", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},' +
      ' "blob": {"module": "log", "data_type": "blob", "ip_whitelist": ["127.0.0.0/8"]}}',
  );
  cwm = await startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'fz', MAX_BODY_BYTES: '65536' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
});

const segment = fc.oneof(
  fc.constantFrom('open', 'guarded', 'signed', 'blob', 'fz', '__proto__', 'constructor', 'toString', 'prototype', '..', '.', '', '%2e%2e', '%2F', '%00', '%ZZ', 'caf%C3%A9', '%F0%9F%98%80', 'a'.repeat(65), 'ns;x', 'x?y=1', '#'),
  fc.stringMatching(/^[A-Za-z0-9_.~%-]{0,20}$/),
);
const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((parts) => `/webhook/${parts.join('/')}`);
const method = fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/cloudevents+json', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json\u00e9', ';;;');
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,64}$/);
const extraHeaders = fc.array(
  fc.tuple(fc.constantFrom('authorization', 'x-forwarded-for', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-github-delivery', 'x-request-id', 'cookie', 'x-hub-signature-256', 'x-custom'), headerValue),
  { maxLength: 6 },
);
const body = fc.oneof(
  fc.json().map((j) => Buffer.from(j)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify({ a: v, __proto__x: v }))),
  fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.nat({ max: 300 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
);

test('random requests always get a table status with a JSON body', async () => {
  await fc.assert(
    fc.asyncProperty(method, path, contentType, extraHeaders, body, fc.boolean(), async (m, p, ct, headers, payload, chunked) => {
      const lines = [`${m} ${p} HTTP/1.1`, 'Host: fuzz'];
      if (ct !== '') lines.push(`Content-Type: ${ct}`);
      for (const [name, value] of headers) lines.push(`${name}: ${value}`);
      let framed: Buffer;
      if (chunked) {
        lines.push('Transfer-Encoding: chunked');
        framed = payload.length === 0 ? Buffer.from('0\r\n\r\n') : Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]);
      } else {
        lines.push(`Content-Length: ${payload.length}`);
        framed = payload;
      }
      const r = await rawRequest(cwm.port, Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), framed]));
      assert.ok(TABLE.has(r.status), `${m} ${p} → ${r.status}`);
      if (m === 'HEAD') return;
      const parsed = JSON.parse(r.body) as { status?: string };
      assert.ok(parsed.status === 'accepted' || parsed.status === 'error', r.body);
      if (r.status === 200) assert.equal(m, 'POST');
      if (r.status >= 500) assert.ok(r.headers.has('retry-after'));
    }),
    { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
  );
  assert.equal(cwm.proc.exitCode, null);
  assert.equal((await fetch(`${cwm.baseUrl}/health`)).status, 200);
});
