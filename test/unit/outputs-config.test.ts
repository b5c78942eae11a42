/** Output modules judged through the receiver's own compile step: module-config errors with JSON pointers, registry and schema in step. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { compileWebhook } from '../../src/config/compile.js';
import { judgeConfig } from '../../src/config/judge.js';
import type { WebhookConfig } from '../../src/config/schema/webhook.js';
import { validateConfig } from '../../src/config/validation.js';
import { ClientLifecycle } from '../../src/connections/client-lifecycle.js';
import { LiveConnections } from '../../src/connections/live.js';
import type { Delivery } from '../../src/delivery/types.js';
import { ConfigError, UnavailableError } from '../../src/errors.js';
import { compileJsonPath } from '../../src/outputs/json-path.js';
import { jobIdFor } from '../../src/outputs/redis-queue.js';
import { OUTPUT_MODULES } from '../../src/outputs/registry.js';
import { SCHEMA_DIR } from '../../src/paths.js';

const logger = pino({ level: 'silent' });
const env = { envAllowlist: /^CWM_/, env: {} };

function refused(config: Record<string, unknown>, message: RegExp): void {
  const errors = judgeConfig('webhook', config, env);
  assert.ok(errors.some((e) => message.test(e)), `${JSON.stringify(config)} → ${message}; got ${JSON.stringify(errors)}`);
}

test('the schema module enum lists exactly the registered outputs and aliases', () => {
  const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, 'webhook.schema.json'), 'utf8')) as { properties: { module: { enum: string[] } } };
  assert.deepEqual([...schema.properties.module.enum].sort(), OUTPUT_MODULES.flatMap((m) => [m.name, ...m.aliases]).sort());
});

test('module-config errors name the field with a JSON pointer; unknown fields are refused', () => {
  refused({ module: 'kafka', 'module-config': { topic: 't' } }, /^\/ must have required property 'connection'/);
  refused({ module: 'redis_queue', 'module-config': {} }, /required property 'connection'/);
  refused({ module: 'kafka', connection: 'k' }, /^\/module-config\/topic is required for kafka/);
  refused({ module: 'kafka', connection: 'k', 'module-config': { topic: 't', compression: 'zstd' } }, /^\/module-config\/compression/);
  refused({ module: 'kafka', connection: 'k', 'module-config': { topic: 't', partition: -1 } }, /^\/module-config\/partition must be >= 0/);
  refused({ module: 'kafka', connection: 'k', 'module-config': { topic: 't', key: '$..deep' } }, /^\/module-config\/key unsupported JSON path/);
  refused({ module: 'kafka', connection: 'k', 'module-config': { topic: 't', forward_headers: 'yes' } }, /^\/module-config\/forward_headers must be boolean/);
  refused({ module: 'redis_queue', connection: 'r', 'module-config': { attempts: 0 } }, /^\/module-config\/attempts must be >= 1/);
  refused({ module: 'redis_queue', connection: 'r', 'module-config': { queue_nam: 'x' } }, /^\/module-config must NOT have additional properties: queue_nam/);
  refused({ module: 'redis_queue', connection: 'r', 'module-config': { queue_name: '' } }, /^\/module-config\/queue_name must NOT have fewer than 1 characters/);
  refused({ module: 'redis_publish', connection: 'r', 'module-config': { channel: '' } }, /^\/module-config\/channel must NOT have fewer than 1 characters/);
  refused({ module: 'redis_stream', connection: 'r' }, /^\/module-config must have required property 'stream'/);
  refused({ module: 'redis_stream', connection: 'r', 'module-config': { stream: 's', maxlen: 0 } }, /^\/module-config\/maxlen must be >= 1/);
  refused({ module: 'log', 'module-config': { pretty_print: 'yes' } }, /^\/module-config\/pretty_print must be boolean/);
  refused({ module: 'log', ip_whitelist: ['10.0.0.0/40'] }, /^\/ip_whitelist .*invalid prefix length/);
  refused({ chain: [{ module: 'log' }, { module: 'kafka', connection: 'k' }] }, /^\/chain\/1\/module-config\/topic is required/);
  refused({ chain: [{ module: 'log', 'module-config': { nope: 1 } }] }, /^\/chain\/0\/module-config must NOT have additional properties: nope/);
  assert.deepEqual(judgeConfig('webhook', { module: 'kafka', connection: 'k', topic: 'top' }, env), [], "CWM's top-level topic");
});

test('defaults come from the schemas and are filled in by ajv', () => {
  const config: Record<string, unknown> = { module: 'redis_queue', connection: 'r', header_auth: { api_key: 'k' } };
  assert.deepEqual(validateConfig('webhook', config), []);
  assert.deepEqual(config['module-config'], { job_name: 'webhook', prefix: 'bull', include_headers: true });
  assert.deepEqual(config.header_auth, { api_key: 'k', header_name: 'X-API-Key', case_sensitive: true });
  const publish: Record<string, unknown> = { module: 'redis_publish', connection: 'r' };
  assert.deepEqual(validateConfig('webhook', publish), []);
  assert.equal((publish['module-config'] as { channel: unknown }).channel, 'webhook_events', "CWM's default channel");
  assert.equal(config.data_type, 'json');
  const coerced: Record<string, unknown> = { module: 'redis_stream', connection: 'r', 'module-config': { stream: 's', maxlen: '50' } };
  assert.deepEqual(validateConfig('webhook', coerced), []);
  assert.equal((coerced['module-config'] as { maxlen: unknown }).maxlen, 50, 'a placeholder-made "50" becomes the number the schema asks for');
});

test('a prototype member name in module-config is an unknown field, not a prototype', () => {
  refused({ module: 'redis_publish', connection: 'r', 'module-config': JSON.parse('{"channel":"c","__proto__":{"x":1}}') as Record<string, unknown> }, /additional properties: __proto__/);
});

test('send on a missing connection is an UnavailableError (answered 503)', async () => {
  const delivery: Delivery = { id: 'd', namespace: 'n', webhookId: 'w', receivedAt: 0, headers: {}, payload: {}, rawBody: Buffer.from('{}'), contentType: 'application/json' };
  const connections = new LiveConnections(logger);
  const moduleConfigs: Record<string, Record<string, unknown>> = { kafka: { topic: 't' }, redis_publish: { channel: 'c' }, redis_stream: { stream: 's' }, redis_queue: {} };
  for (const [module, moduleConfig] of Object.entries(moduleConfigs)) {
    const config: Record<string, unknown> = { module, connection: 'absent', 'module-config': moduleConfig };
    assert.deepEqual(validateConfig('webhook', config), []);
    const hook = compileWebhook('n', 'w', config as WebhookConfig, { logger, connections, maxBodyBytes: 1024 });
    const out = hook.outputs[0];
    assert.ok(out);
    await assert.rejects(out.output.send(delivery, new AbortController().signal), (err: unknown) => err instanceof UnavailableError && /"absent" is missing/.test(err.message), module);
  }
});

test('JSON path subset: dotted, indexed, quoted; own properties only', () => {
  const doc = { a: { b: [{ c: 'x' }] }, 'odd key': 1 };
  assert.equal(compileJsonPath('$.a.b[0].c')(doc), 'x');
  assert.equal(compileJsonPath("$['odd key']")(doc), 1);
  assert.equal(compileJsonPath('$.a.missing')(doc), undefined);
  assert.equal(compileJsonPath('$.a.b.c')(doc), undefined);
  assert.equal(compileJsonPath('$.constructor')(doc), undefined);
  assert.equal(compileJsonPath('$.toString')({}), undefined);
  assert.deepEqual(compileJsonPath('$')(doc), doc);
  assert.throws(() => compileJsonPath('a.b'), ConfigError);
  assert.throws(() => compileJsonPath('$.a[*]'), ConfigError);
});

test('job ids: plain delivery ids as they are; integer-looking and colon ids encoded, always the same way', () => {
  assert.equal(jobIdFor('72d3162e-cc78-11e3-81ab-4c9367dc0958'), '72d3162e-cc78-11e3-81ab-4c9367dc0958');
  assert.equal(jobIdFor('12345'), jobIdFor('12345'));
  assert.notEqual(jobIdFor('12345'), '12345');
  assert.notEqual(jobIdFor('a:b'), jobIdFor('a;b'));
  assert.ok(!jobIdFor('a:b').includes(':'));
});

test('client lifecycle: close waits for in-flight work, then closes derived objects, then the client', async () => {
  const life = new ClientLifecycle();
  const order: string[] = [];
  life.shared('q', () => ({ close: async () => void order.push('derived') }));
  assert.equal(life.shared('q', () => ({ close: async () => void order.push('second') })), life.shared('q', () => ({ close: async () => undefined })), 'built once per key');
  let finish: () => void = () => undefined;
  const work = life.use(() => new Promise<void>((resolve) => (finish = resolve)).then(() => void order.push('work')));
  const closed = life.close(5000, async () => void order.push('client'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'nothing closed while work is in flight');
  finish();
  await Promise.all([work, closed]);
  assert.deepEqual(order, ['work', 'derived', 'client']);
  assert.throws(() => life.shared('other', () => ({ close: async () => undefined })), /closed/);
});

test('client lifecycle: a hung send does not hold the old client forever', async () => {
  const life = new ClientLifecycle();
  void life.use(() => new Promise<void>(() => undefined));
  const started = Date.now();
  let closedClient = false;
  await life.close(50, async () => void (closedClient = true));
  assert.ok(closedClient);
  assert.ok(Date.now() - started < 1000);
});
