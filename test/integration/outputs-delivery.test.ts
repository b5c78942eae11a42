/**
 * Every output against real services (Redis, the librdkafka mock broker),
 * read back at the destination; chains; missing and late connections.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { readTopic, startKafkaMock, type KafkaMock } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let kafka: KafkaMock;
let dir: ConfigDir;
let cwm: CwmProcess;
let client: Redis;
const queues = new Map<string, Queue>();

function queue(name: string): Queue {
  let q = queues.get(name);
  if (!q) {
    q = new Queue(name, { connection: client });
    queues.set(name, q);
  }
  return q;
}

const webhooks = {
  q: { module: 'redis_queue', connection: 'redis_main', 'module-config': { queue_name: 'jobs', attempts: 3, remove_on_complete: 100 } },
  rq: { module: 'redis_queue', connection: 'rq_alias', queue_name: 'rq-jobs' },
  pub: { module: 'redis_publish', connection: 'redis_main', 'module-config': { channel: 'events' } },
  stream: { module: 'redis_stream', connection: 'redis_main', 'module-config': { stream: 'wh-stream', maxlen: 1000 } },
  k: { module: 'kafka', connection: 'kafka_main', 'module-config': { topic: 'orders', key: '$.order.id', forward_headers: true, compression: 'gzip' } },
  k_top: { module: 'kafka', connection: 'kafka_main', topic: 'legacy', 'module-config': { key: 'static-key', partition: 2 } },
  chain_seq: {
    chain: [
      { module: 'redis_queue', connection: 'redis_main', 'module-config': { queue_name: 'chain-jobs' } },
      { module: 'kafka', connection: 'kafka_main', 'module-config': { topic: 'chained' } },
      { module: 'log' },
    ],
    'chain-config': { execution: 'sequential' },
  },
  chain_par: {
    chain: [
      { module: 'redis_stream', connection: 'redis_main', 'module-config': { stream: 'par-stream' } },
      { module: 'kafka', connection: 'kafka_main', 'module-config': { topic: 'chained' } },
    ],
    'chain-config': { execution: 'parallel' },
  },
  chain_broken: {
    chain: [
      { module: 'log' },
      { module: 'redis_queue', connection: 'no_such_connection', 'module-config': { queue_name: 'never' } },
    ],
    'chain-config': { execution: 'parallel' },
  },
  late: { module: 'redis_queue', connection: 'late_conn', 'module-config': { queue_name: 'late-jobs' } },
  wrong_type: { module: 'redis_publish', connection: 'kafka_main', 'module-config': { channel: 'x' } },
  no_topic: { module: 'kafka', connection: 'kafka_main' },
};

function connections(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    redis_main: { type: 'redis', url: redis.url },
    rq_alias: { type: 'redis-rq', host: '127.0.0.1', port: redis.port },
    kafka_main: { type: 'kafka', bootstrap_servers: kafka.bootstraps },
    ...extra,
  };
}

before(async () => {
  [redis, kafka] = await Promise.all([startRedis(), startKafkaMock(['orders', 'legacy', 'chained'], { partitions: 3 })]);
  dir = makeConfigDir();
  dir.write('connections.json', connections());
  dir.write('webhooks.json', webhooks);
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: '2000' });
  client = new Redis(redis.url);
});

after(async () => {
  await Promise.all([...queues.values()].map((q) => q.close()));
  client.disconnect();
  assert.equal(await cwm.stop(), 0);
  await Promise.all([redis.destroy(), kafka.stop()]);
  dir.remove();
});

async function accepted(path: string, body: unknown, id: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await cwm.post(path, body, { 'x-github-delivery': id, ...headers });
  const json = (await res.json()) as { status?: string; delivery_id?: string };
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(json)}`);
  assert.deepEqual(json, { status: 'accepted', delivery_id: id });
}

test('redis_queue: one BullMQ job per delivery id, carrying payload, headers and meta; a retry adds no second job', async () => {
  await accepted('/webhook/q', { order: { id: 'A-1' } }, 'gh-1', { 'x-custom': 'yes', authorization: 'Bearer secret' });
  const job = await queue('jobs').getJob('gh-1');
  assert.ok(job, 'job gh-1 exists');
  assert.equal(job.name, 'webhook');
  assert.deepEqual(job.data.payload, { order: { id: 'A-1' } });
  assert.equal(job.data.headers['x-custom'], 'yes');
  assert.equal(job.data.headers.authorization, undefined, 'credentials are not forwarded');
  assert.equal(job.data.meta.delivery_id, 'gh-1');
  assert.equal(job.data.meta.webhook_id, 'q');
  assert.equal(job.opts.attempts, 3);
  await accepted('/webhook/q', { order: { id: 'A-1' } }, 'gh-1');
  await accepted('/webhook/q', { order: { id: 'A-2' } }, 'gh-2');
  assert.equal(await queue('jobs').getWaitingCount(), 2, 'the retried gh-1 made no second job');
});

test('redis_queue: integer-looking and colon ids (which BullMQ refuses as job ids) still map to one job each', async () => {
  await accepted('/webhook/q', { n: 1 }, '12345');
  await accepted('/webhook/q', { n: 1 }, '12345');
  await accepted('/webhook/q', { n: 2 }, 'a:b');
  const jobs = await queue('jobs').getJobs(['waiting']);
  assert.equal(jobs.filter((j) => j.data.meta.delivery_id === '12345').length, 1);
  assert.equal(jobs.filter((j) => j.data.meta.delivery_id === 'a:b').length, 1);
});

test("redis_queue through CWM's redis-rq connection type given as host/port, CWM's top-level queue_name", async () => {
  await accepted('/webhook/rq', { x: 1 }, 'rq-1');
  const job = await queue('rq-jobs').getJob('rq-1');
  assert.deepEqual(job?.data.payload, { x: 1 });
});

test('redis_publish: a subscriber receives the envelope', async () => {
  const sub = new Redis(redis.url);
  const messages: string[] = [];
  sub.on('message', (_channel: string, m: string) => messages.push(m));
  await sub.subscribe('events');
  try {
    await accepted('/webhook/pub', { hello: 'world' }, 'pub-1');
    const got = await waitFor(() => messages.find((m) => m.includes('pub-1')), 5000, 'published message');
    const parsed = JSON.parse(got) as { payload: unknown; meta: { delivery_id: string; namespace: string } };
    assert.deepEqual(parsed.payload, { hello: 'world' });
    assert.equal(parsed.meta.namespace, 'default');
  } finally {
    sub.disconnect();
  }
});

test('redis_stream: XADD entry with delivery id and the body bytes', async () => {
  await accepted('/webhook/stream', { s: 1 }, 'st-1');
  const entries = await client.xrange('wh-stream', '-', '+');
  const entry = entries.find(([, f]) => f[f.indexOf('delivery_id') + 1] === 'st-1');
  assert.ok(entry, 'stream entry for st-1');
  const fields = entry[1];
  assert.deepEqual(JSON.parse(fields[fields.indexOf('payload') + 1] as string), { s: 1 });
  assert.equal(fields[fields.indexOf('webhook_id') + 1], 'stream');
});

test('kafka: key from a JSON path, forwarded headers, delivery id header, gzip; top-level topic with static key and partition', async () => {
  await accepted('/webhook/k', { order: { id: 'O-77' }, total: 5 }, 'kf-1', { 'x-trace': 't1' });
  await accepted('/webhook/k_top', { legacy: true }, 'kf-2');
  const orders = await waitFor(async () => (await readTopic(kafka.bootstraps, 'orders')).filter((r) => r.headers.get('cwm-delivery-id') === 'kf-1'), 5000, 'orders record');
  assert.equal(orders.length, 1);
  const rec = orders[0]!;
  assert.equal(rec.key, 'O-77');
  assert.deepEqual(JSON.parse(rec.value), { order: { id: 'O-77' }, total: 5 });
  assert.equal(rec.headers.get('x-trace'), 't1');
  const legacy = (await readTopic(kafka.bootstraps, 'legacy')).find((r) => r.headers.get('cwm-delivery-id') === 'kf-2');
  assert.ok(legacy, 'legacy record');
  assert.equal(legacy.key, 'static-key');
  assert.equal(legacy.partition, 2);
  assert.equal(legacy.headers.get('x-trace'), undefined, 'headers are forwarded only when asked');
});

test('chain sequential and parallel: every output holds the delivery before 200', async () => {
  await accepted('/webhook/chain_seq', { c: 'seq' }, 'ch-seq');
  await accepted('/webhook/chain_par', { c: 'par' }, 'ch-par');
  assert.ok(await queue('chain-jobs').getJob('ch-seq'), 'sequential chain: queue job');
  const chained = await readTopic(kafka.bootstraps, 'chained');
  const ids = chained.map((r) => r.headers.get('cwm-delivery-id'));
  assert.ok(ids.includes('ch-seq') && ids.includes('ch-par'), `chained topic has both: ${ids.join(',')}`);
  const par = await client.xrange('par-stream', '-', '+');
  assert.ok(par.some(([, f]) => f.includes('ch-par')), 'parallel chain: stream entry');
  assert.ok(cwm.logs.some((l) => l.msg === 'webhook received' && l.delivery_id === 'ch-seq'), 'sequential chain: log line');
});

test('a chain with one unavailable output answers 503 with Retry-After', async () => {
  const res = await cwm.post('/webhook/chain_broken', { x: 1 });
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
});

test('wrong connection type answers 503; a module-config without topic is refused at load (404, logged)', async () => {
  assert.equal((await cwm.post('/webhook/wrong_type', {})).status, 503);
  assert.equal((await cwm.post('/webhook/no_topic', {})).status, 404);
  assert.ok(cwm.logs.some((l) => String(l.reason).includes('/module-config/topic is required for kafka')), 'reason logged');
});

test('missing connection answers 503; once it is added the same webhook answers 200', async () => {
  const res = await cwm.post('/webhook/late', { x: 1 }, { 'x-github-delivery': 'late-1' });
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
  assert.ok(cwm.logs.some((l) => l.connection === 'late_conn' && String(l.msg).includes('does not exist yet')), 'logged once at load');
  dir.write('connections.json', connections({ late_conn: { type: 'redis', url: redis.url } }));
  await waitFor(async () => (await cwm.post('/webhook/late', { x: 1 }, { 'x-github-delivery': 'late-1' })).status === 200, 5000, 'late webhook served');
  assert.ok(await queue('late-jobs').getJob('late-1'));
});
