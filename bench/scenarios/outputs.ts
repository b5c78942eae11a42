/**
 * The durable outputs: a redis_queue, a kafka and a postgresql webhook (real
 * redis-server, the librdkafka mock broker, a PostgreSQL 15 of its own) against the log webhook of the same cwm process
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
import { Pool } from 'undici';
import { createKafkaProducer } from '../../src/connections/kafka.js';
import { MqttPublisher } from '../../src/connections/mqtt.js';
import { postgresqlConnection } from '../../src/connections/postgresql.js';
import { RabbitClient } from '../../src/connections/rabbitmq.js';
import { InsertBatcher } from '../../src/outputs/sql-batch.js';
import { startMosquitto, startRabbitmq, type Broker } from '../../test/helpers/brokers.js';
import { startKafkaMock, type KafkaMock } from '../../test/helpers/kafka.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis.js';
import { startPostgres, type SqlServer } from '../../test/helpers/sql-servers.js';
import { compare, CONNECTIONS, loadFigures, ratioFigures, type Backing } from '../lib/compare.js';
import { PAYLOAD } from '../lib/payload.js';
import { cpuSecondsOf, cpuTreeSecondsOf, startBare, startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { BenchContext, Figure, Scenario } from '../lib/scenario.js';
import { configDir } from './http.js';

const TOPIC = 'bench';
const HALF_OF_LOG = { op: '>=', target: 0.5 } as const;

function backing(label: string, pid: number | undefined): Backing {
  if (pid === undefined) throw new Error(`${label} has no pid`);
  return { label, cpuSeconds: () => cpuSecondsOf(pid) };
}

function postgresBacking(server: SqlServer): Backing {
  return { label: 'postgres (postmaster + backends)', cpuSeconds: () => (server.pid === undefined ? NaN : cpuTreeSecondsOf(server.pid)) };
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
/** The request headers wrk sends, which the rabbitmq webhook (include_headers, CWM's default) copies into each message. */
const WRK_HEADERS = { host: '127.0.0.1:8080', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(PAYLOAD)) } as const;

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
    const confirms = await opsPerSecond((i) => amqp.publish({ exchange: '', exchangeType: 'direct', routingKey: 'client-only', queue: 'client-only', body, messageId: `c-${i}`, contentType: 'application/json', headers: { ...WRK_HEADERS, 'cwm-delivery-id': `c-${i}` } }), count);
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

/** An undici Pool of http_webhook's size (64 keep-alive connections) posting the body to the same target, without HTTP in front or cwm. */
async function httpClientFigures(ctx: BenchContext, sink: ServerProcess): Promise<Figure[]> {
  const count = ctx.smoke ? 500 : 20_000;
  const pool = new Pool(sink.baseUrl, { connections: 64 });
  try {
    ctx.log(`client only: ${count} undici Pool POSTs to the target`);
    const posts = await opsPerSecond(async () => {
      const res = await pool.request({ path: '/sink', method: 'POST', headers: { 'content-type': 'application/json' }, body: PAYLOAD });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`target answered ${res.statusCode}`);
    }, count);
    return [{ measure: `undici Pool POST to the target node:http alone, ${CONNECTIONS} in flight`, value: Math.round(posts), unit: 'ops/s' }];
  } finally {
    await pool.close();
  }
}

/** cwm's postgresql client (the pool cwm builds, the INSERT its json mode runs) without HTTP or cwm. */
async function postgresClientFigures(ctx: BenchContext, server: SqlServer): Promise<Figure[]> {
  const count = ctx.smoke ? 500 : 20_000;
  const live = postgresqlConnection.create({ host: '127.0.0.1', port: server.port, database: 'postgres', user: 'postgres', ssl: false, pool_min_size: 0 }, { name: 'bench', logger: pino({ level: 'warn' }), timeoutMs: 5000 });
  try {
    if (!(await live.ready())) throw new Error('bench postgres not reachable');
    await live.client.execute('CREATE TABLE IF NOT EXISTS client_only (id BIGSERIAL PRIMARY KEY, webhook_id TEXT NOT NULL, "timestamp" TIMESTAMPTZ, payload JSONB NOT NULL, headers JSONB)', []);
    ctx.log(`client only: ${count} PostgreSQL INSERTs`);
    const single = 'INSERT INTO client_only (webhook_id, "timestamp", payload, headers) VALUES ($1, $2, $3, $4)';
    const inserts = await opsPerSecond(() => live.client.execute(single, ['bench', new Date(), PAYLOAD, '{}']), count);
    // The same rows through the batcher the postgresql output uses (concurrent rows share one multi-row INSERT).
    const rows = (n: number): string => `INSERT INTO client_only (webhook_id, "timestamp", payload, headers) VALUES ${Array.from({ length: n }, (_, r) => `($${4 * r + 1}, $${4 * r + 2}, $${4 * r + 3}, $${4 * r + 4})`).join(', ')}`;
    const batcher = new InsertBatcher(live.client, { sql: rows }, live.client.maxConcurrency, 4);
    const batched = await opsPerSecond(() => batcher.insert(['bench', new Date(), PAYLOAD, '{}']), count);
    return [
      { measure: `cwm postgresql client INSERT (pg Pool of 10, fsync on) alone, ${CONNECTIONS} in flight`, value: Math.round(inserts), unit: 'ops/s' },
      { measure: `cwm postgresql client, rows batched into multi-row INSERTs, alone, ${CONNECTIONS} in flight`, value: Math.round(batched), unit: 'ops/s' },
    ];
  } finally {
    await live.close();
  }
}

export const outputsScenario: Scenario = {
  name: 'outputs',
  description: `redis_queue, kafka, rabbitmq, mqtt, postgresql and http_webhook webhooks (real redis-server, librdkafka mock broker, RabbitMQ, Mosquitto, own PostgreSQL with fsync on, the http_webhook target a second bare node:http process) vs the log webhook of the same process and bare node:http; wrk, ${CONNECTIONS} connections, ${Buffer.byteLength(PAYLOAD)}-byte JSON body, interleaved rounds, medians; plus the same client calls without HTTP`,
  async run(ctx) {
    const redis = await startRedis();
    const started: { kafka?: KafkaMock; rabbit?: Broker; mosquitto?: Broker; postgres?: SqlServer; sink?: ServerProcess } = {};
    try {
      const kafka = (started.kafka = await startKafkaMock([TOPIC]));
      const rabbit = (started.rabbit = await startRabbitmq());
      const mosquitto = (started.mosquitto = await startMosquitto());
      const postgres = (started.postgres = await startPostgres());
      // The http_webhook target: a second bare node:http process, so its CPU is measured apart from cwm's.
      const sink = (started.sink = await startBare());
      const dir = configDir(
        ctx,
        'outputs',
        {
          log: { module: 'log' },
          queue: { module: 'redis_queue', connection: 'r', 'module-config': { queue_name: 'bench', remove_on_complete: true } },
          kafka: { module: 'kafka', connection: 'k', 'module-config': { topic: TOPIC, key: '$.after' } },
          rabbitmq: { module: 'rabbitmq', connection: 'a', queue_name: 'bench' },
          mqtt: { module: 'mqtt', connection: 'm', topic: 'bench/events' },
          pg: { module: 'postgresql', connection: 'p', 'module-config': { table: 'bench' } },
          http: { module: 'http_webhook', 'module-config': { url: `${sink.baseUrl}/sink` } },
        },
        {
          r: { type: 'redis', url: redis.url },
          k: { type: 'kafka', bootstrap_servers: kafka.bootstraps },
          a: { type: 'rabbitmq', host: '127.0.0.1', port: rabbit.port, user: 'guest', pass: 'guest' },
          m: { type: 'mqtt', host: '127.0.0.1', port: mosquitto.port },
          p: { type: 'postgresql', host: '127.0.0.1', port: postgres.port, database: 'postgres', user: 'postgres' },
        },
      );
      const startCwm = (): Promise<ServerProcess> => startCwmServer(ctx, 'outputs', { CONFIG_BACKEND: 'file', CONFIG_DIR: dir, OUTPUT_TIMEOUT_MS: '5000', ALLOW_LOCALHOST_FOR_TESTS: 'true' });
      const http = await withServers([() => startBare(), startCwm], async ([bare, server]) => {
        const [b, log, queue, kafkaHook, rabbitHook, mqttHook, pgHook, httpHook] = await compare(ctx, [
          { label: 'bare node:http', server: bare, paths: ['/webhook/bench'] },
          { label: 'cwm log webhook', server, paths: ['/webhook/log'] },
          { label: 'cwm redis_queue webhook', server, paths: ['/webhook/queue'], backing: [backing('redis-server', redis.pid)] },
          { label: 'cwm kafka webhook', server, paths: ['/webhook/kafka'], backing: [backing('kafka-mock', kafka.pid)] },
          { label: 'cwm rabbitmq webhook', server, paths: ['/webhook/rabbitmq'], backing: [backing('rabbitmq (beam.smp)', rabbit.pid)] },
          { label: 'cwm mqtt webhook', server, paths: ['/webhook/mqtt'], backing: [backing('mosquitto', mosquitto.pid)] },
          // The postmaster and its backends (the INSERTs run in those).
          { label: 'cwm postgresql webhook', server, paths: ['/webhook/pg'], backing: [postgresBacking(postgres)] },
          { label: 'cwm http_webhook webhook', server, paths: ['/webhook/http'], backing: [{ label: 'target node:http', cpuSeconds: () => sink.cpuSeconds() }] },
        ]);
        if (!b || !log || !queue || !kafkaHook || !rabbitHook || !mqttHook || !pgHook || !httpHook) throw new Error('compare returned fewer results than targets');
        return [
          ...[b, log, queue, kafkaHook, rabbitHook, mqttHook, pgHook, httpHook].flatMap((r) => loadFigures(r)),
          ...[queue, kafkaHook].flatMap((r) => ratioFigures(r, log)),
          // Issue 12's goal: each of these destinations at least half the log webhook's throughput.
          ...[rabbitHook, mqttHook, pgHook, httpHook].flatMap((r) => ratioFigures(r, log, { throughput: HALF_OF_LOG })),
          ...ratioFigures(queue, b),
          ...ratioFigures(kafkaHook, b),
        ];
      });
      return [...http, ...(await clientOnlyFigures(ctx, redis, kafka)), ...(await brokerClientFigures(ctx, rabbit, mosquitto)), ...(await postgresClientFigures(ctx, postgres)), ...(await httpClientFigures(ctx, sink))];
    } finally {
      await Promise.all([redis.destroy(), started.kafka?.stop(), started.rabbit?.destroy(), started.mosquitto?.destroy(), started.postgres?.destroy(), started.sink?.stop()]);
    }
  },
};
