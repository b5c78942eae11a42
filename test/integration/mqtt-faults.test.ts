/**
 * Mosquitto killed (SIGKILL) mid-traffic and restarted, on an instance this
 * test owns (persistence saved on every change): 503 fast while it is down,
 * 200 again once it is back, and every QoS 1 delivery answered 200 reaches a
 * persistent-session subscriber, before the kill or from the restored
 * session after it.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { startMosquitto, type Broker } from '../helpers/brokers.js';
import { outage, tally } from '../helpers/broker-outage.js';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

const OUTPUT_TIMEOUT_MS = 1000;
let broker: Broker;
let dir: ConfigDir;
let cwm: CwmProcess;
let sub: MqttClient;
const received = new Set<string>();

before(async () => {
  broker = await startMosquitto();
  // A persistent session (clean: false, QoS 1): the broker keeps what it acknowledged for it across the restart.
  sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'cwm-fault-sub', clean: false, reconnectPeriod: 100 });
  sub.on('message', (_topic, payload) => received.add((JSON.parse(payload.toString()) as { id: string }).id));
  sub.on('error', () => undefined);
  await sub.subscribeAsync('faults/events', { qos: 1 });
  dir = makeConfigDir();
  dir.write('connections.json', { mqtt_local: { type: 'mqtt', host: '127.0.0.1', port: broker.port, username: '', password: '', client_id: 'webhook-module', keepalive: 60, mqtt_version: '3.1.1' } });
  dir.write('webhooks.json', { mq: { module: 'mqtt', connection: 'mqtt_local', topic: 'faults/events' } });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS) });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await sub.endAsync(true);
  await broker.destroy();
  dir.remove();
});

test('Mosquitto killed mid-traffic: 503 within the timeout, back → 200, nothing answered 200 (PUBACK) is missing at the subscriber', async (t: TestContext) => {
  const r = await outage(cwm, '/webhook/mq', broker, OUTPUT_TIMEOUT_MS, 'mq');
  // The restored session is redelivered after the subscriber reconnects; wait for it with a generous deadline.
  await waitFor(() => r.acked.every((id) => received.has(id)), 20_000, 'every acknowledged message at the subscriber').catch(() => undefined);
  t.diagnostic(tally('mqtt kill -9', r, received));
});
