/**
 * The durable outputs: a redis_queue and a kafka webhook (real redis-server,
 * the librdkafka mock broker) against the log webhook of the same cwm process
 * and the bare node:http server, all four under the same wrk load in
 * interleaved rounds. CPU per request is reported for cwm and for the
 * process behind each output. The same client calls without HTTP (BullMQ
 * Queue.add, cwm's batching kafkajs producer; CONNECTIONS in flight) show
 * how much of the time is the client and its broker rather than cwm.
 * rabbitmq (own RabbitMQ node, publisher confirms) and mqtt (own Mosquitto,
 * QoS 1) webhooks run in the same rounds, with their clients alone too.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createKafkaProducer } from '../../src/connections/kafka.js';
import { MqttPublisher } from '../../src/connections/mqtt.js';
import { RabbitClient } from '../../src/connections/rabbitmq.js';
import { startMosquitto, startRabbitmq, type Broker } from '../../test/helpers/brokers.js';
import { startKafkaMock, type KafkaMock } from '../../test/helpers/kafka.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis.js';
import { compare, CONNECTIONS, loadFigures, ratioFigures, type Backing } from '../lib/compare.js';
import { PAYLOAD } from '../lib/payload.js';
import { cpuSecondsOf, startBare, startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { BenchContext, Figure, Scenario } from '../lib/scenario.js';
import { configDir } from './http.js';

const TOPIC = 'bench';

function backing(label: string, pid: number | undefined): Backing {
  if (pid === undefined) throw new Error(`${label} has no pid`);
  return { label, cpuSeconds: () => cpuSecondsOf(pid) };
}

/** Operations per second of `count` calls of `op` with CONNECTIONS in flight. */
async function opsPerSecond(op: (i: number) => Promise<unknown>, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < count) await op(next++);
  }));
  return count / ((performance.now() - started) / 1000);
}

/** Queue.add and producer.send as cwm calls them (same job options, same record shape), without HTTP or cwm. */
/** cwm's RabbitMQ client (confirm channel, persistent, mandatory) and MQTT client (QoS 1) alone. */
async function brokerClientFigures(ctx: BenchContext, rabbit: Broker, mosquitto: Broker): Promise<Figure[]> {
  const count = ctx.smoke ? 500 : 20_000;
  const body = Buffer.from(PAYLOAD);
  const logger = pino({ level: 'warn' });
  const amqp = new RabbitClient({ host: '127.0.0.1', port: rabbit.port, user: 'guest', pass: 'guest', vhost: '/', heartbeat: 10, tls: false }, logger, 5000);
  const mqtt = new MqttPublisher({ host: '127.0.0.1', port: mosquitto.port, client_id: 'cwm-bench', unique_client_id: true, keepalive: 60, mqtt_version: '3.1.1', tls: false, tls_insecure: false }, logger, 5000);
  try {
    if (!(await amqp.ready()) || !(await mqtt.ready())) throw new Error('broker clients did not connect');
    ctx.log(`client only: ${count} RabbitMQ confirmed publishes, ${count} MQTT QoS 1 publishes`);
    const confirms = await opsPerSecond((i) => amqp.publish({ exchange: '', exchangeType: 'direct', routingKey: 'client-only', queue: 'client-only', body, messageId: `c-${i}`, contentType: 'application/json', headers: {} }), count);
    const pubacks = await opsPerSecond(() => mqtt.publish('bench/client-only', body, 1, false), count);
    return [
      { measure: `cwm RabbitMQ publish with confirm alone, ${CONNECTIONS} in flight`, value: Math.round(confirms), unit: 'ops/s' },
      { measure: `cwm MQTT QoS 1 publish (PUBACK) alone, ${CONNECTIONS} in flight`, value: Math.round(pubacks), unit: 'ops/s' },
    ];
  } finally {
    await Promise.all([amqp.close(), mqtt.close()]);
  }
}

async function clientOnlyFigures(ctx: BenchContext, redis: RedisServer, kafka: KafkaMock): Promise<Figure[]> {
  const count = ctx.smoke ? 500 : 20_000;
  const payload: unknown = JSON.parse(PAYLOAD);
  const value = Buffer.from(PAYLOAD);
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('client-only', { connection: client });
  const producer = createKafkaProducer({ bootstrap_servers: kafka.bootstraps, client_id: 'cwm-bench' }, { logger: pino({ level: 'warn' }), requestTimeoutMs: 5000 });
  try {
    ctx.log(`client only: ${count} Queue.add, ${count} Kafka producer sends`);
    const queueAdd = await opsPerSecond((i) => queue.add('webhook', { payload, headers: {}, meta: { delivery_id: `c-${i}` } }, { jobId: `c-${i}`, removeOnComplete: true }), count);
    const send = await opsPerSecond((i) => producer.send({ topic: TOPIC, compression: 'none', records: [{ key: 'k', value, headers: { 'cwm-delivery-id': `c-${i}` } }] }), count);
    return [
      { measure: `BullMQ Queue.add alone, ${CONNECTIONS} in flight`, value: Math.round(queueAdd), unit: 'ops/s' },
      { measure: `cwm Kafka producer send (acks=-1) alone, ${CONNECTIONS} in flight`, value: Math.round(send), unit: 'ops/s' },
    ];
  } finally {
    await Promise.all([queue.close(), producer.close()]);
    client.disconnect();
  }
}

export const outputsScenario: Scenario = {
  name: 'outputs',
  description: `redis_queue, kafka, rabbitmq and mqtt webhooks (real redis-server, librdkafka mock broker, RabbitMQ, Mosquitto) vs the log webhook of the same process and bare node:http; wrk, ${CONNECTIONS} connections, ${Buffer.byteLength(PAYLOAD)}-byte JSON body, interleaved rounds, medians; plus the same client calls without HTTP`,
  async run(ctx) {
    const redis = await startRedis();
    const started: { kafka?: KafkaMock; rabbit?: Broker; mosquitto?: Broker } = {};
    try {
      const kafka = (started.kafka = await startKafkaMock([TOPIC]));
      const rabbit = (started.rabbit = await startRabbitmq());
      const mosquitto = (started.mosquitto = await startMosquitto());
      const dir = configDir(
        ctx,
        'outputs',
        {
          log: { module: 'log' },
          queue: { module: 'redis_queue', connection: 'r', 'module-config': { queue_name: 'bench', remove_on_complete: true } },
          kafka: { module: 'kafka', connection: 'k', 'module-config': { topic: TOPIC, key: '$.after' } },
          rabbitmq: { module: 'rabbitmq', connection: 'a', queue_name: 'bench' },
          mqtt: { module: 'mqtt', connection: 'm', topic: 'bench/events' },
        },
        {
          r: { type: 'redis', url: redis.url },
          k: { type: 'kafka', bootstrap_servers: kafka.bootstraps },
          a: { type: 'rabbitmq', host: '127.0.0.1', port: rabbit.port, user: 'guest', pass: 'guest' },
          m: { type: 'mqtt', host: '127.0.0.1', port: mosquitto.port },
        },
      );
      const startCwm = (): Promise<ServerProcess> => startCwmServer(ctx, 'outputs', { CONFIG_BACKEND: 'file', CONFIG_DIR: dir, OUTPUT_TIMEOUT_MS: '5000' });
      const http = await withServers([() => startBare(), startCwm], async ([bare, cwm]) => {
        const server = cwm as ServerProcess;
        const [b, log, queue, kafkaHook, rabbitHook, mqttHook] = await compare(ctx, [
          { label: 'bare node:http', server: bare as ServerProcess, paths: ['/webhook/bench'] },
          { label: 'cwm log webhook', server, paths: ['/webhook/log'] },
          { label: 'cwm redis_queue webhook', server, paths: ['/webhook/queue'], backing: [backing('redis-server', redis.pid)] },
          { label: 'cwm kafka webhook', server, paths: ['/webhook/kafka'], backing: [backing('kafka-mock', kafka.pid)] },
          { label: 'cwm rabbitmq webhook', server, paths: ['/webhook/rabbitmq'], backing: [backing('rabbitmq (beam.smp)', rabbit.pid)] },
          { label: 'cwm mqtt webhook', server, paths: ['/webhook/mqtt'], backing: [backing('mosquitto', mosquitto.pid)] },
        ]);
        if (!b || !log || !queue || !kafkaHook || !rabbitHook || !mqttHook) throw new Error('compare returned fewer results than targets');
        return [
          ...loadFigures(b),
          ...loadFigures(log),
          ...loadFigures(queue),
          ...loadFigures(kafkaHook),
          ...loadFigures(rabbitHook),
          ...loadFigures(mqttHook),
          ...ratioFigures(queue, log),
          ...ratioFigures(kafkaHook, log),
          ...ratioFigures(rabbitHook, log),
          ...ratioFigures(mqttHook, log),
          ...ratioFigures(queue, b),
          ...ratioFigures(kafkaHook, b),
        ];
      });
      return [...http, ...(await clientOnlyFigures(ctx, redis, kafka)), ...(await brokerClientFigures(ctx, rabbit, mosquitto))];
    } finally {
      await Promise.all([redis.destroy(), started.kafka?.stop(), started.rabbit?.destroy(), started.mosquitto?.destroy()]);
    }
  },
};
