/**
 * Reads back what reached the RabbitMQ, MQTT and NATS destinations, as
 * delivery id → copies, without consuming it (settle() reads repeatedly).
 */
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { DELIVERY_ID_HEADER } from '../../src/outputs/kafka.js';
import type { Counts } from './destinations.js';
import { countIds } from './tally.js';

/** Every message in the queue, taken unacknowledged and handed back (requeued) when the channel closes. */
export async function rabbitmqDeliveries(port: number, queue: string): Promise<Counts> {
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const ids: string[] = [];
  try {
    const ch = await conn.createChannel();
    for (;;) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      const id: unknown = msg.properties.headers?.[DELIVERY_ID_HEADER];
      ids.push(typeof id === 'string' ? id : '');
    }
  } finally {
    await conn.close();
  }
  return countIds(ids);
}

export async function natsDeliveries(port: number, stream: string): Promise<Counts> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  const ids: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      ids.push(m?.header.get('Nats-Msg-Id') ?? '');
    }
  } finally {
    await nc.close();
  }
  return countIds(ids);
}

/** A persistent-session subscriber started before the load: counts what the broker delivered to it, across restarts. */
export async function mqttSubscriber(port: number, topic: string): Promise<{ read(): Counts; close(): Promise<void> }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'cwm-chaos-sub', clean: false, reconnectPeriod: 100 });
  const ids: string[] = [];
  client.on('error', () => undefined);
  const seen = new Set<string>();
  client.on('message', (_t, payload, packet) => {
    let id = '';
    try {
      id = String((JSON.parse(payload.toString()) as { delivery?: unknown }).delivery);
    } catch {
      // counted as an unknown id
    }
    // The broker resending to this subscriber (DUP flag: its PUBACK to us was lost in the kill) is not a second
    // copy cwm published; a second publish of cwm's arrives without the flag and is counted.
    if (packet.dup && seen.has(id)) return;
    seen.add(id);
    ids.push(id);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { read: () => countIds(ids), close: () => client.endAsync(true) };
}
