import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { ClientLifecycle } from '../../src/connections/client-lifecycle.js';
import { ConnectionRegistry } from '../../src/connections/registry.js';
import { sharedLineLogger } from '../../src/observability/logger.js';
import { compileJsonPath } from '../../src/outputs/json-path.js';
import { jobIdFor } from '../../src/outputs/redis-queue.js';
import { findOutput, outputNames } from '../../src/outputs/registry.js';
import { OutputConfigError, OutputUnavailableError, type OutputSpec } from '../../src/outputs/types.js';
import { SCHEMA_DIR } from '../../src/paths.js';
import type { Delivery } from '../../src/delivery/types.js';

const logger = pino({ level: 'silent' });
const ctx = { logger, deliveryLogger: sharedLineLogger(logger), connections: new ConnectionRegistry(logger) };

function bind(spec: Partial<OutputSpec> & { module: string }) {
  const module = findOutput(spec.module);
  assert.ok(module, spec.module);
  return module.bind({ moduleConfig: {}, ...spec }, ctx);
}

function bindError(spec: Partial<OutputSpec> & { module: string }, message: RegExp): void {
  assert.throws(() => bind(spec), (err: unknown) => err instanceof OutputConfigError && message.test(err.message), `${JSON.stringify(spec)} → ${message}`);
}

test('the schema module enum lists exactly the registered outputs', () => {
  const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, 'webhook.schema.json'), 'utf8')) as { definitions: { module: { enum: string[] } } };
  assert.deepEqual([...schema.definitions.module.enum].sort(), outputNames().sort());
});

test('module-config errors are clear and name the field', () => {
  bindError({ module: 'kafka', moduleConfig: { topic: 't' } }, /needs a "connection"/);
  bindError({ module: 'kafka', connection: 'k' }, /kafka needs module-config.topic/);
  bindError({ module: 'kafka', connection: 'k', moduleConfig: { topic: 't', compression: 'zstd' } }, /compression must be one of gzip, none/);
  bindError({ module: 'kafka', connection: 'k', moduleConfig: { topic: 't', partition: -1 } }, /partition must be an integer/);
  bindError({ module: 'kafka', connection: 'k', moduleConfig: { topic: 't', key: '$..deep' } }, /unsupported JSON path/);
  bindError({ module: 'kafka', connection: 'k', moduleConfig: { topic: 't', forward_headers: 'yes' } }, /forward_headers must be a boolean/);
  bindError({ module: 'redis_queue', connection: 'r', moduleConfig: { attempts: 0 } }, /attempts must be an integer from 1/);
  bindError({ module: 'redis_rq', connection: 'r', moduleConfig: { remove_on_complete: 'x' } }, /remove_on_complete must be a boolean or a non-negative integer/);
  bindError({ module: 'redis_queue', connection: 'r', moduleConfig: { queue_name: '' } }, /queue_name must be a non-empty string/);
  bindError({ module: 'redis_publish', connection: 'r' }, /redis_publish needs module-config.channel/);
  bindError({ module: 'redis_stream', connection: 'r' }, /redis_stream needs module-config.stream/);
  bindError({ module: 'redis_stream', connection: 'r', moduleConfig: { stream: 's', maxlen: 0 } }, /maxlen must be an integer from 1/);
  bindError({ module: 'log', moduleConfig: { pretty_print: 1 } }, /pretty_print must be a boolean/);
});

test('a prototype member name in module-config is not a set field', () => {
  assert.doesNotThrow(() => bind({ module: 'redis_publish', connection: 'r', moduleConfig: JSON.parse('{"channel":"c","__proto__":{"x":1},"constructor":1}') as Record<string, unknown> }));
});

test('send on a missing connection is OutputUnavailableError (answered 503)', async () => {
  const delivery: Delivery = { id: 'd', namespace: 'n', webhookId: 'w', receivedAt: 0, headers: {}, payload: {}, rawBody: Buffer.from('{}'), contentType: 'application/json' };
  for (const module of ['kafka', 'redis_queue', 'redis_publish', 'redis_stream']) {
    const out = bind({ module, connection: 'absent', moduleConfig: { topic: 't', channel: 'c', stream: 's' } });
    await assert.rejects(out.send(delivery, new AbortController().signal), (err: unknown) => err instanceof OutputUnavailableError && /"absent" is missing/.test(err.message), module);
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
  assert.throws(() => compileJsonPath('a.b'), OutputConfigError);
  assert.throws(() => compileJsonPath('$.a[*]'), OutputConfigError);
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
