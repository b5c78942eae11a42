/** `{$NAME}` substitution limited by CONFIG_ENV_ALLOWLIST, sender delivery ids, and 422 details that never echo payload values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substituteEnv, SubstitutionError } from '../../src/config/env-substitution.js';
import { deliveryIdSource, isSafeId, requestDeliveryId } from '../../src/delivery/delivery-id.js';
import { compilePayloadSchema, formatErrors } from '../../src/config/validation.js';

const allow = /^CWM_/;
const env = { CWM_TOKEN: 'tok', AWS_SECRET_ACCESS_KEY: 'aws-secret', CWM_EMPTY: '' };

test('{$NAME} and {$NAME:default} fill allowed names anywhere in the config', () => {
  const out = substituteEnv({ authorization: 'Bearer {$CWM_TOKEN}', list: ['{$CWM_MISSING:fallback}', 'x{$CWM_EMPTY}y'], n: 3 }, allow, env);
  assert.deepEqual(out, { authorization: 'Bearer tok', list: ['fallback', 'xy'], n: 3 });
});

test('names outside the allowlist are refused even with a default, and the error names the JSON pointer, not the value', () => {
  assert.throws(() => substituteEnv({ a: { b: '{$AWS_SECRET_ACCESS_KEY}' } }, allow, env), (err: Error) => err instanceof SubstitutionError && err.message.includes('/a/b') && !err.message.includes('aws-secret'));
  assert.throws(() => substituteEnv({ a: '{$PATH:x}' }, allow, env), SubstitutionError);
  assert.throws(() => substituteEnv({ a: '{$CWM_UNSET}' }, allow, env), /not set/);
});

test('substitution keeps "__proto__" an own key and does not touch the prototype', () => {
  const out = substituteEnv(JSON.parse('{"__proto__": {"polluted": "{$CWM_TOKEN}"}}'), allow, env) as Record<string, unknown>;
  assert.ok(Object.hasOwn(out, '__proto__'));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
});

test('delivery id: configured header first, vendor headers, Stripe body id before X-Request-Id, unsafe values skipped', () => {
  const plain = deliveryIdSource();
  assert.equal(plain({ 'x-github-delivery': 'gh-1', 'x-request-id': 'r' }, {}), 'gh-1');
  assert.equal(plain({ 'webhook-id': 'msg_1' }, {}), 'msg_1');
  assert.equal(plain({ 'x-request-id': 'r' }, { id: 'evt_1' }), undefined, 'body id only for stripe; X-Request-Id alone is never a delivery id');
  assert.equal(plain({}, {}), undefined);
  assert.equal(plain({ 'x-github-delivery': 'has space' }, {}), undefined);
  assert.equal(plain({ 'x-github-delivery': 'x'.repeat(201) }, {}), undefined);
  const stripe = deliveryIdSource({ bodyId: true });
  assert.equal(stripe({ 'x-request-id': 'proxy-set' }, { id: 'evt_1' }), 'evt_1');
  assert.equal(stripe({}, { id: 42 }), undefined);
  assert.equal(stripe({}, Buffer.from('{"id":"x"}')), undefined);
  const custom = deliveryIdSource({ header: 'X-Event-Id' });
  assert.equal(custom({ 'x-event-id': 'e1', 'x-github-delivery': 'gh' }, {}), 'e1');
});

test('X-Request-Id names a delivery only together with its body', () => {
  const a = requestDeliveryId('r-1', Buffer.from('{"a":1}'));
  assert.equal(a, requestDeliveryId('r-1', Buffer.from('{"a":1}')), 'a retry of the same request keeps its id');
  assert.notEqual(a, requestDeliveryId('r-1', Buffer.from('{"a":2}')), 'another body under the same X-Request-Id is another delivery');
  assert.notEqual(a, requestDeliveryId('r-2', Buffer.from('{"a":1}')));
  assert.ok(isSafeId(requestDeliveryId('x'.repeat(200), Buffer.alloc(0))), 'stays a safe id for the longest X-Request-Id');
});

test('422 details are JSON pointers and rules, never payload values', () => {
  const secretish = 'sk_live_51H8xSECRETvalue0123456789';
  const schema = {
    type: 'object',
    properties: {
      token: { type: 'string', maxLength: 5 },
      email: { type: 'string', format: 'email' },
      kind: { enum: ['a', 'b'] },
      code: { const: 'X' },
      pat: { type: 'string', pattern: '^[0-9]+$' },
      n: { type: 'integer' },
    },
    additionalProperties: false,
  };
  const validate = compilePayloadSchema(schema);
  for (const key of ['token', 'email', 'kind', 'code', 'pat', 'n']) {
    assert.equal(validate({ [key]: secretish }), false, key);
    const lines = formatErrors(validate.errors);
    assert.ok(lines.length > 0 && lines[0]?.startsWith(`/${key} `), lines.join());
    assert.ok(!lines.join('\n').includes(secretish), `${key}: ${lines.join()}`);
  }
});

test('422 details stay short even for a hostile key name', () => {
  const validate = compilePayloadSchema({ type: 'object', additionalProperties: false, properties: { a: { type: 'object', properties: { b: { type: 'string' } } } } });
  const long = 'k'.repeat(100_000);
  assert.equal(validate({ [long]: 1 }), false);
  const lines = formatErrors(validate.errors);
  assert.ok(lines.join('').length < 400, String(lines.join('').length));
  assert.equal(validate({ a: { b: 1 } }), false);
  assert.deepEqual(formatErrors(validate.errors), ['/a/b fails type']);
});
