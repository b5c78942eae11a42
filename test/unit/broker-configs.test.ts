/**
 * The rabbitmq, mqtt and nats config rules, judged the way the receiver and
 * `cwm validate` judge them: CWM's own connection configs for these types
 * (every one in the research corpus) are accepted; CWM's topic and queue
 * rules refuse what they refuse, when the config is loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeConfig } from '../../src/config/judge.js';

const environment = { envAllowlist: /^/, env: { RABBITMQ_HOST: 'rmq.internal', RABBITMQ_USER: 'u', RABBITMQ_PASS: 'p', MQTT_HOST: 'mqtt.internal', MQTT_USERNAME: 'u', MQTT_PASSWORD: 'p' } };

// In the repo (a clone has no research folder): compiled to dist/test/unit, so three levels up.
const CORPUS = join(import.meta.dirname, '..', '..', '..', 'test', 'data', 'cwm-corpus', 'connections.json');

test("every CWM connection config of type rabbitmq or mqtt in CWM's docs and examples is accepted", () => {
  const corpus = JSON.parse(readFileSync(CORPUS, 'utf8')) as Record<string, { type?: string }>;
  const ours = Object.entries(corpus).filter(([, c]) => c.type === 'rabbitmq' || c.type === 'mqtt');
  assert.ok(ours.length >= 10, `corpus has ${ours.length} rabbitmq/mqtt connection configs`);
  for (const [name, config] of ours) {
    assert.deepEqual(judgeConfig('connection', config, environment), [], name);
  }
});

test('connection configs: unknown fields and bad values are refused with a pointer', () => {
  assert.notDeepEqual(judgeConfig('connection', { type: 'rabbitmq', host: 'h', password: 'x' }, environment), []);
  assert.notDeepEqual(judgeConfig('connection', { type: 'mqtt', mqtt_version: '4' }, environment), []);
  assert.notDeepEqual(judgeConfig('connection', { type: 'nats', port: 0 }, environment), []);
  assert.deepEqual(judgeConfig('connection', { type: 'nats', servers: 'n1:4222,n2:4222' }, environment), []);
});

const webhook = (module: string, extra: Record<string, unknown>): Record<string, unknown> => ({ module, connection: 'c', ...extra });

test("mqtt topics follow CWM's rule: no wildcards, '..', '--', '//' or leading '$', in module-config or top level", () => {
  for (const bad of ['a/+/b', 'a/../b', '#', '$SYS/x', 'a//b', 'a--b', '/', 'a b']) {
    assert.notDeepEqual(judgeConfig('webhook', webhook('mqtt', { 'module-config': { topic: bad } }), environment), [], `module-config ${bad}`);
    assert.notDeepEqual(judgeConfig('webhook', webhook('mqtt', { topic: bad }), environment), [], `top-level ${bad}`);
  }
  assert.deepEqual(judgeConfig('webhook', webhook('mqtt', { 'module-config': { topic: 'ok/topic-1.x', topic_prefix: 'devices/' } }), environment), []);
  assert.notDeepEqual(judgeConfig('webhook', webhook('mqtt', {}), environment), [], 'a topic is required');
  assert.notDeepEqual(judgeConfig('webhook', webhook('mqtt', { 'module-config': { topic: 't', qos: 3 } }), environment), []);
});

test("rabbitmq queue names follow CWM's rule; a queue (or exchange + routing key) is required", () => {
  assert.deepEqual(judgeConfig('webhook', webhook('rabbitmq', { queue_name: 'orders.v1:eu' }), environment), []);
  for (const bad of ['amq.gen', 'a/b', 'a b', '', 'x'.repeat(256)]) {
    assert.notDeepEqual(judgeConfig('webhook', webhook('rabbitmq', { 'module-config': { queue_name: bad } }), environment), [], bad);
    assert.notDeepEqual(judgeConfig('webhook', webhook('rabbitmq', { queue_name: bad }), environment), [], `top-level ${bad}`);
  }
  assert.notDeepEqual(judgeConfig('webhook', webhook('rabbitmq', {}), environment), [], 'no queue');
  assert.deepEqual(judgeConfig('webhook', webhook('rabbitmq', { 'module-config': { exchange: 'events', routing_key: 'a.b' } }), environment), []);
  assert.notDeepEqual(judgeConfig('webhook', webhook('rabbitmq', { 'module-config': { queue_name: 'q', routing_key: 'other' } }), environment), [], 'default exchange routes by queue name only');
});

test('nats: a subject is required and may not hold wildcards; create_stream needs a stream', () => {
  assert.deepEqual(judgeConfig('webhook', webhook('nats', { topic: 'orders.created' }), environment), []);
  assert.notDeepEqual(judgeConfig('webhook', webhook('nats', {}), environment), []);
  assert.notDeepEqual(judgeConfig('webhook', webhook('nats', { 'module-config': { subject: 'orders.*' } }), environment), []);
  assert.notDeepEqual(judgeConfig('webhook', webhook('nats', { topic: 'orders.>' }), environment), []);
  assert.notDeepEqual(judgeConfig('webhook', webhook('nats', { 'module-config': { subject: 'a', create_stream: true } }), environment), []);
});
