/**
 * The log output's cheap line logger (no pino path redaction, censorNested
 * per field) must write exactly the line the redacting process logger writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DestinationStream } from 'pino';
import { LiveConnections } from '../../src/connections/live.js';
import { censorNested, createLogger, lineLogger, sharedLineLogger } from '../../src/observability/logger.js';
import { logOutput } from '../../src/outputs/log.js';
import { STRICT_OUTPUT_SETTINGS } from '../../src/outputs/types.js';
import type { Delivery } from '../../src/delivery/types.js';

function capture(): { stream: DestinationStream; last(): Record<string, unknown> } {
  const lines: string[] = [];
  return {
    stream: { write: (s: string) => void lines.push(s) },
    last() {
      const parsed = JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
      delete parsed.time;
      return parsed;
    },
  };
}

// No "__proto__": pino's path redaction drops such keys (see the last test); the line logger keeps them.
const key = fc.oneof(fc.constantFrom('secret', 'password', 'api_key', 'token', 'constructor', 'toString', 'headers'), fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
})).node;

test('line logger + censorNested writes the same line as the redacting logger', () => {
  const full = capture();
  const cheap = capture();
  const base = (s: DestinationStream) => createLogger('info', s).child({ namespace: 'ns', webhook_id: 'id' });
  const redacting = base(full.stream).child({ output: 'log' });
  const lines = lineLogger(base(cheap.stream), { output: 'log' });
  fc.assert(
    fc.property(value, fc.dictionary(key, fc.string(), { maxKeys: 5 }), (payload, headers) => {
      redacting.info({ delivery_id: 'd', payload, webhook_headers: headers }, 'webhook received');
      lines.info({ delivery_id: 'd', payload: censorNested(payload), webhook_headers: censorNested(headers) }, 'webhook received');
      assert.deepEqual(cheap.last(), full.last());
    }),
    { numRuns: 500 },
  );
});

test('censorNested censors secrets one and two levels down without touching the original', () => {
  const payload = { a: 1, secret: 's', nested: { password: 'p', deeper: { api_key: 'k' } } };
  assert.deepEqual(censorNested(payload), { a: 1, secret: '[redacted]', nested: { password: '[redacted]', deeper: { api_key: 'k' } } });
  assert.deepEqual(censorNested([{ secret: 's' }, 1]), [{ secret: '[redacted]' }, 1]);
  assert.equal(payload.secret, 's');
  assert.equal(payload.nested.password, 'p');
  const clean = { a: 1 };
  assert.equal(censorNested(clean), clean, 'no copy when nothing is censored');
});

test('an own "__proto__" key in a payload or header set is logged, not dropped', () => {
  const out = capture();
  const payload = JSON.parse('{"__proto__":{"secret":"s"},"password":"p"}') as Record<string, unknown>;
  const headers = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
  lineLogger(createLogger('info', out.stream), { output: 'log' }).info({ payload: censorNested(payload), webhook_headers: censorNested(headers) }, 'webhook received');
  const line = out.last();
  assert.deepEqual(line.payload, JSON.parse('{"__proto__":{"secret":"[redacted]"},"password":"[redacted]"}'));
  assert.deepEqual(line.webhook_headers, JSON.parse('{"__proto__":"x"}'));
});

test('the log output writes namespace, webhook_id and output where per-webhook bindings would put them', async () => {
  const out = capture();
  const root = createLogger('info', out.stream).child({ component: 'config' });
  const ctx = { logger: root.child({ namespace: 'ns', webhook_id: 'hook' }), deliveryLogger: sharedLineLogger(root), connections: new LiveConnections(root), settings: STRICT_OUTPUT_SETTINGS, namespace: 'ns' };
  const bound = logOutput.bind({ pretty_print: false, redact_sensitive: true, include_headers: true }, { module: 'log', connection: '' }, ctx);
  const delivery: Delivery = { id: 'd1', requestId: 'r1', namespace: 'ns', webhookId: 'hook', receivedAt: 0, headers: { 'content-type': 'application/json' }, payload: { a: 1, secret: 's' }, rawBody: Buffer.from('{}'), contentType: 'application/json' };
  await bound.send(delivery, new AbortController().signal);
  const line = out.last();
  assert.deepEqual(Object.keys(line), ['level', 'service', 'component', 'namespace', 'webhook_id', 'output', 'delivery_id', 'request_id', 'payload', 'webhook_headers', 'msg']);
  assert.deepEqual(line.payload, { a: 1, secret: '[redacted]' });
  assert.equal(sharedLineLogger(root), ctx.deliveryLogger, 'one shared line logger per parent');
});

test('pretty_print: true redacts exactly like pretty_print: false', async () => {
  const payload = { user: 'u', password: 'hunter2', nested: { api_key: 'k-123', ok: 1 } };
  const lines: Record<string, unknown>[] = [];
  for (const pretty_print of [false, true]) {
    const out = capture();
    const root = createLogger('info', out.stream);
    const bound = logOutput.bind({ pretty_print, redact_sensitive: true, include_headers: true }, { module: 'log', connection: '' }, { logger: root, deliveryLogger: sharedLineLogger(root), connections: new LiveConnections(root), settings: STRICT_OUTPUT_SETTINGS, namespace: 'ns' });
    const delivery: Delivery = { id: 'd', namespace: 'ns', webhookId: 'h', receivedAt: 0, headers: { 'x-custom-token': 'tok-1' }, payload, rawBody: Buffer.from('{}'), contentType: 'application/json' };
    await bound.send(delivery, new AbortController().signal);
    lines.push(out.last());
  }
  const [plain, pretty] = lines as [Record<string, unknown>, Record<string, unknown>];
  assert.equal(typeof pretty.payload, 'string');
  assert.deepEqual(JSON.parse(pretty.payload as string), plain.payload);
  assert.deepEqual(plain.payload, { user: 'u', password: '[redacted]', nested: { api_key: '[redacted]', ok: 1 } });
  for (const line of lines) assert.doesNotMatch(JSON.stringify(line), /hunter2|k-123|tok-1/);
});
