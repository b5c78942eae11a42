/**
 * rabbitmq, mqtt and nats outputs end to end with CWM-format webhook and
 * connection configs (from CWM's docs and examples), against the machine's
 * pre-started RabbitMQ (5672), Mosquitto (1883) and NATS (4222, JetStream),
 * read back at the broker. Names carry a per-run suffix so runs never see
 * each other's messages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

const run = randomBytes(4).toString('hex');
const queue = `test_integration_queue_${run}`;
const exchangeQueue = `ex_bound_${run}`;
const topic = `webhook/events${run}`;
const stream = `CWMT${run}`;
const subject = `cwmt${run}.orders`;

let dir: ConfigDir;
let cwm: CwmProcess;

// CWM's config/examples/connections.example.json and docs/modules/*.md, as they are.
const connections = {
  rabbitmq_local: { type: 'rabbitmq', host: 'localhost', port: 5672, user: 'guest', pass: 'guest', vhost: '/' },
  mqtt_local: { type: 'mqtt', host: 'localhost', port: 1883, username: '', password: '', client_id: 'webhook-module', keepalive: 60, mqtt_version: '3.1.1' },
  mqtt_docs: { type: 'mqtt', host: 'localhost', port: 1883, username: 'user', password: 'pass', client_id: 'webhook-module', keepalive: 60, mqtt_version: '3.1.1' },
  nats_main: { type: 'nats', servers: '127.0.0.1:4222' },
};

const webhooks = {
  // CWM's config/development/webhooks.json: top-level queue_name, bearer token.
  integration_test_webhook_rabbitmq: { data_type: 'json', module: 'rabbitmq', authorization: 'Bearer test_integration_token_12345', queue_name: queue, connection: 'rabbitmq_local' },
  rmq_exchange: { module: 'rabbitmq', connection: 'rabbitmq_local', 'module-config': { queue_name: exchangeQueue, exchange: `cwm.ex.${run}`, exchange_type: 'topic', routing_key: 'orders.created' } },
  rmq_unroutable: { module: 'rabbitmq', connection: 'rabbitmq_local', 'module-config': { exchange: `cwm.empty.${run}`, routing_key: 'nobody' } },
  // CWM's docs/modules/mqtt.md.
  mqtt_events: { data_type: 'json', module: 'mqtt', connection: 'mqtt_docs', 'module-config': { topic, qos: 1, retained: false, format: 'json', topic_prefix: 'devices' }, authorization: 'Bearer mqtt_secret' },
  test_mqtt: { data_type: 'json', module: 'mqtt', authorization: 'Bearer test_token_123', topic: `${topic}/top`, connection: 'mqtt_local' },
  mqtt_qos2: { module: 'mqtt', connection: 'mqtt_local', 'module-config': { topic: `${topic}/q2`, qos: 2 } },
  shelly_webhook: { data_type: 'json', module: 'mqtt', connection: 'mqtt_local', 'module-config': { topic: `shellies/device${run}/status`, shelly_gen2_format: true, device_id: 'device123', qos: 1 } },
  nats_js: { module: 'nats', connection: 'nats_main', 'module-config': { subject, stream, create_stream: true } },
  nats_nostream: { module: 'nats', connection: 'nats_main', 'module-config': { subject: `cwmt${run}.nowhere` } },
};

before(async () => {
  dir = makeConfigDir();
  dir.write('connections.json', connections);
  dir.write('webhooks.json', webhooks);
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: '3000' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  dir.remove();
  const conn = await amqplib.connect('amqp://guest:guest@127.0.0.1:5672');
  const ch = await conn.createChannel();
  for (const q of [queue, exchangeQueue]) await ch.deleteQueue(q);
  for (const e of [`cwm.ex.${run}`, `cwm.empty.${run}`]) await ch.deleteExchange(e);
  await conn.close();
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
  await nc.close();
});

async function accepted(path: string, body: unknown, id: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await cwm.post(path, body, { 'x-github-delivery': id, ...headers });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
}

test('rabbitmq: CWM webhook (top-level queue_name, bearer) → a persistent message in the durable queue, body as sent, headers and delivery id', async () => {
  await accepted('/webhook/integration_test_webhook_rabbitmq', { event: 'paid', n: 1 }, `rmq-${run}-1`, { authorization: 'Bearer test_integration_token_12345', 'x-custom': 'yes' });
  const conn = await amqplib.connect('amqp://guest:guest@127.0.0.1:5672');
  try {
    const ch = await conn.createChannel();
    const info = await ch.checkQueue(queue); // throws (404) unless declared
    assert.equal(info.messageCount, 1);
    const msg = await ch.get(queue, { noAck: true });
    assert.ok(msg, 'one message');
    assert.deepEqual(JSON.parse(msg.content.toString()), { event: 'paid', n: 1 });
    assert.equal(msg.properties.deliveryMode, 2, 'persistent');
    assert.equal(msg.properties.headers?.['cwm-delivery-id'], `rmq-${run}-1`);
    assert.equal(msg.properties.headers?.['x-custom'], 'yes');
    assert.equal(msg.properties.headers?.authorization, undefined, 'credentials are not forwarded');
    // The queue is durable: redeclaring it as non-durable is refused (406), which closes this channel.
    const ch2 = await conn.createChannel();
    ch2.on('error', () => undefined);
    await assert.rejects(ch2.assertQueue(queue, { durable: false }), /PRECONDITION_FAILED/);
  } finally {
    await conn.close();
  }
  const wrongToken = await cwm.post('/webhook/integration_test_webhook_rabbitmq', {}, { authorization: 'Bearer nope' });
  assert.equal(wrongToken.status, 401);
});

test('rabbitmq: a named exchange routes to the bound durable queue; a message no queue takes is answered 503, not 200', async () => {
  await accepted('/webhook/rmq_exchange', { via: 'exchange' }, `rmqx-${run}`);
  const conn = await amqplib.connect('amqp://guest:guest@127.0.0.1:5672');
  try {
    const ch = await conn.createChannel();
    const msg = await ch.get(exchangeQueue, { noAck: true });
    assert.ok(msg);
    assert.equal(msg.fields.exchange, `cwm.ex.${run}`);
    assert.equal(msg.fields.routingKey, 'orders.created');
  } finally {
    await conn.close();
  }
  const res = await cwm.post('/webhook/rmq_unroutable', { x: 1 }, { 'x-github-delivery': `rmqu-${run}` });
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
});

async function subscriber(topics: string[]): Promise<{ messages: { topic: string; body: string; retain: boolean }[]; close(): Promise<void> }> {
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `cwmt-sub-${run}-${randomBytes(2).toString('hex')}` });
  const messages: { topic: string; body: string; retain: boolean }[] = [];
  client.on('message', (t, payload, packet) => messages.push({ topic: t, body: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(topics, { qos: 2 });
  return { messages, close: () => client.endAsync() };
}

test('mqtt: CWM docs webhook (topic_prefix, qos 1) and top-level topic, QoS 2 and the Shelly Gen2 shape reach a subscriber', async () => {
  const sub = await subscriber([`devices/${topic}`, `${topic}/top`, `${topic}/q2`, `shellies/device${run}/status`]);
  try {
    await accepted('/webhook/mqtt_events', { temp: 21.5 }, `mq-${run}-1`, { authorization: 'Bearer mqtt_secret' });
    await accepted('/webhook/test_mqtt', { a: 1 }, `mq-${run}-2`, { authorization: 'Bearer test_token_123' });
    await accepted('/webhook/mqtt_qos2', [1, 2], `mq-${run}-3`);
    await accepted('/webhook/shelly_webhook', { on: true }, `mq-${run}-4`);
    await waitFor(() => sub.messages.length >= 4, 10_000, 'four MQTT messages');
    const byTopic = new Map(sub.messages.map((m) => [m.topic, m.body]));
    assert.deepEqual(JSON.parse(byTopic.get(`devices/${topic}`) ?? 'null'), { temp: 21.5 });
    assert.deepEqual(JSON.parse(byTopic.get(`${topic}/top`) ?? 'null'), { a: 1 });
    assert.deepEqual(JSON.parse(byTopic.get(`${topic}/q2`) ?? 'null'), [1, 2]);
    assert.deepEqual(JSON.parse(byTopic.get(`shellies/device${run}/status`) ?? 'null'), { id: 'device123', source: 'webhook', params: { on: true } });
  } finally {
    await sub.close();
  }
});

test('nats: JetStream publish acknowledged by the stream (created on first use); the delivery id is the message id, so a retry is stored once; no stream → 503', async () => {
  await accepted('/webhook/nats_js', { order: 1 }, `nj-${run}-1`);
  await accepted('/webhook/nats_js', { order: 1 }, `nj-${run}-1`); // the sender's retry
  await accepted('/webhook/nats_js', { order: 2 }, `nj-${run}-2`);
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    assert.equal(info.state.messages, 2, 'the retry with the same delivery id is a duplicate');
    const first = await jsm.streams.getMessage(stream, { seq: 1 });
    assert.ok(first);
    assert.deepEqual(first.json(), { order: 1 });
    assert.equal(first.header.get('Nats-Msg-Id'), `nj-${run}-1`);
  } finally {
    await nc.close();
  }
  const res = await cwm.post('/webhook/nats_nostream', { x: 1 }, { 'x-github-delivery': `nn-${run}` });
  assert.equal(res.status, 503);
});
