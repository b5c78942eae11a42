/**
 * Fault tests with real processes: Redis killed mid-traffic and back, the
 * Kafka broker down and back, connections retargeted to new servers, the
 * broker stopped. Each counts: every delivery answered 2xx is found at its
 * destination, and retrying with the same delivery id makes no second job.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { readTopic, startKafkaMock, type KafkaMock } from '../helpers/kafka.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTraffic, type Outcome, type Traffic } from '../helpers/traffic.js';

const OUTPUT_TIMEOUT_MS = 1000;
/** Scheduling slack on a 2-core machine shared with the load loops and the services. */
const SLACK_MS = 600;

let redis: RedisServer;
let kafka: KafkaMock;
let dir: ConfigDir;
let cwm: CwmProcess;
const connections = new Map<string, Record<string, unknown>>();

function writeConnections(): void {
  dir.write('connections.json', Object.fromEntries(connections));
}

/** Waits until cwm has swapped in the client for the n-th config of that connection. */
async function retarget(name: string, config: Record<string, unknown>): Promise<void> {
  const changed = (): number => cwm.logs.filter((l) => l.connection === name && String(l.msg).startsWith('connection changed')).length;
  const before = changed();
  connections.set(name, config);
  writeConnections();
  await waitFor(() => changed() > before, 5000, `${name} retargeted`);
}

before(async () => {
  [redis, kafka] = await Promise.all([startRedis({ durable: true }), startKafkaMock(['faults'])]);
  dir = makeConfigDir();
  connections.set('redis_main', { type: 'redis', url: redis.url });
  connections.set('kafka_main', { type: 'kafka', bootstrap_servers: kafka.bootstraps });
  writeConnections();
  dir.write('webhooks.json', {
    q: { module: 'redis_queue', connection: 'redis_main', 'module-config': { queue_name: 'fq' } },
    k: { module: 'kafka', connection: 'kafka_main', 'module-config': { topic: 'faults', key: '$.id' } },
    lg: { module: 'log', 'module-config': { include_headers: false } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), LOG_LEVEL: 'info' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await Promise.all([redis.destroy(), kafka.stop()]);
  dir.remove();
});

function send(path: string): (id: string) => Promise<Response> {
  return (id) => cwm.post(path, { id, at: Date.now() }, { 'x-github-delivery': id });
}

const ok = (outcomes: readonly Outcome[], since = 0): Outcome[] => outcomes.filter((o) => o.status === 200 && o.at >= since);
const unavailable = (outcomes: readonly Outcome[], since = 0): Outcome[] => outcomes.filter((o) => o.status === 503 && o.at >= since);

function assertOnly200And503(outcomes: readonly Outcome[], what: string): void {
  const other = outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], `${what}: every answer is 200 or 503`);
}

function assert503sWithinTimeout(outcomes: readonly Outcome[], what: string): void {
  const slow = unavailable(outcomes).filter((o) => o.ms > OUTPUT_TIMEOUT_MS + SLACK_MS);
  assert.deepEqual(slow.map((o) => `${o.id}:${Math.round(o.ms)}ms`), [], `${what}: 503 within OUTPUT_TIMEOUT_MS`);
}

/** Delivery ids that have a job in that Redis's queue `fq`. */
async function jobIds(server: RedisServer): Promise<Set<string>> {
  const client = new Redis(server.url);
  const queue = new Queue('fq', { connection: client });
  try {
    const jobs = await queue.getJobs(['waiting'], 0, -1);
    const ids = jobs.map((j) => (j.data as { meta: { delivery_id: string } }).meta.delivery_id);
    assert.equal(new Set(ids).size, ids.length, 'no delivery id has two jobs');
    return new Set(ids);
  } finally {
    await queue.close();
    client.disconnect();
  }
}

async function stopAll(...traffic: Traffic[]): Promise<void> {
  await Promise.all(traffic.map((t) => t.stop()));
}

test('Redis killed mid-traffic: queue webhook answers 503 fast while log stays 200; back → 200; nothing acknowledged is lost; retries make no second job', async (t: TestContext) => {
  const queue = startTraffic(send('/webhook/q'), { concurrency: 4, prefix: 'kill' });
  const log = startTraffic(send('/webhook/lg'), { concurrency: 1, prefix: 'log' });
  try {
    await waitFor(() => ok(queue.outcomes).length >= 100, 10_000, '100 jobs acknowledged');
    await redis.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => unavailable(queue.outcomes, killedAt).length >= 50, 10_000, '503s while Redis is down');
    const logDuringOutage = ok(log.outcomes, killedAt).length;
    await redis.restart();
    const backAt = Date.now();
    await waitFor(() => ok(queue.outcomes, backAt).length >= 100, 10_000, '200s once Redis is back');
    assert.ok(logDuringOutage > 0 || ok(log.outcomes, killedAt).length > 0, 'the log webhook kept answering');
  } finally {
    await stopAll(queue, log);
  }
  assertOnly200And503(queue.outcomes, 'queue webhook');
  assert503sWithinTimeout(queue.outcomes, 'queue webhook');
  assert.deepEqual(log.outcomes.filter((o) => o.status !== 200).map((o) => `${o.id}:${o.status}`), [], 'log webhook: always 200');

  // The sender's retries: every 503 again with the same id, plus every acknowledged one (a retry after a lost response).
  const acked = ok(queue.outcomes).map((o) => o.id);
  const refused = unavailable(queue.outcomes).map((o) => o.id);
  for (const id of [...refused, ...acked.slice(0, 50)]) {
    const res = await send('/webhook/q')(id);
    assert.equal(res.status, 200, `retry of ${id}`);
  }
  const found = await jobIds(redis);
  const lost = acked.filter((id) => !found.has(id));
  assert.deepEqual(lost, [], 'acknowledged then lost');
  assert.equal(found.size, acked.length + refused.length, 'one job per delivery id after retries');
  t.diagnostic(`redis kill: sent=${queue.outcomes.length} acked=${acked.length} answered503=${refused.length} max503ms=${Math.round(Math.max(...unavailable(queue.outcomes).map((o) => o.ms)))} retried=${refused.length + 50} jobs=${found.size} lost=${lost.length} log200=${log.outcomes.length}`);
});

/** The reconnect backoff's cap (src/connections/backoff.ts) plus connect and scheduling slack on the shared 2-core machine. */
const RECOVERY_BOUND_MS = 1500;
/** Down long enough for the backoff to reach its cap (50+100+200+400+800 ms of pauses before it does). */
const OUTAGE_MS = 3000;

test('Redis back after an outage longer than the backoff ramp: the queue webhook answers 200 again within 1.5 s', async (t: TestContext) => {
  const traffic = startTraffic(send('/webhook/q'), { concurrency: 2, prefix: 'recovery' });
  let recoveryMs: number;
  try {
    await waitFor(() => ok(traffic.outcomes).length >= 20, 10_000, 'jobs acknowledged');
    await redis.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => Date.now() - killedAt >= OUTAGE_MS && unavailable(traffic.outcomes, killedAt).length >= 20, 10_000, `503s for ${OUTAGE_MS} ms`);
    await redis.restart();
    const backAt = Date.now();
    const first = await waitFor(() => ok(traffic.outcomes, backAt)[0], 10_000, 'a 200 once Redis is back');
    recoveryMs = first.at - backAt;
  } finally {
    await traffic.stop();
  }
  assertOnly200And503(traffic.outcomes, 'queue webhook');
  t.diagnostic(`redis recovery: first 200 ${recoveryMs} ms after Redis answered PING again (outage ${OUTAGE_MS} ms, backoff cap 1000 ms)`);
  assert.ok(recoveryMs <= RECOVERY_BOUND_MS, `first 200 ${recoveryMs} ms after Redis was back, bound ${RECOVERY_BOUND_MS} ms`);
});

test('Kafka broker down mid-traffic: 503 within the timeout; back → 200; every acknowledged record is in the topic', async (t: TestContext) => {
  const kafkaLines = (): number => cwm.logs.filter((l) => /^kafka(js:| producer connect failed)/.test(String(l.msg))).length;
  const linesBefore = kafkaLines();
  const traffic = startTraffic(send('/webhook/k'), { concurrency: 4, prefix: 'kdown' });
  try {
    await waitFor(() => ok(traffic.outcomes).length >= 100, 10_000, '100 records acknowledged');
    await kafka.down();
    const downAt = Date.now();
    await waitFor(() => unavailable(traffic.outcomes, downAt).length >= 30, 10_000, '503s while the broker is down');
    await kafka.up();
    const upAt = Date.now();
    await waitFor(() => ok(traffic.outcomes, upAt).length >= 100, 15_000, '200s once the broker is back');
  } finally {
    await traffic.stop();
  }
  assertOnly200And503(traffic.outcomes, 'kafka webhook');
  assert503sWithinTimeout(traffic.outcomes, 'kafka webhook');
  const acked = ok(traffic.outcomes).map((o) => o.id);
  const records = await readTopic(kafka.bootstraps, 'faults');
  const found = new Set(records.map((r) => r.headers.get('cwm-delivery-id')));
  const keysMatch = records.every((r) => r.key === r.headers.get('cwm-delivery-id'));
  const lost = acked.filter((id) => !found.has(id));
  assert.deepEqual(lost, [], 'acknowledged then lost');
  assert.ok(keysMatch, 'record keys come from $.id');
  // kafkajs alone wrote ~7 error lines per failed request; one line per state change is the goal.
  const outageLines = kafkaLines() - linesBefore;
  assert.ok(outageLines <= 6, `kafka error lines during the outage: ${outageLines} for ${unavailable(traffic.outcomes).length} failed requests`);
  t.diagnostic(`kafka down: kafka_log_lines=${outageLines}`);
  t.diagnostic(`kafka down: sent=${traffic.outcomes.length} acked=${acked.length} answered503=${unavailable(traffic.outcomes).length} max503ms=${Math.round(Math.max(...unavailable(traffic.outcomes).map((o) => o.ms)))} records=${records.length} lost=${lost.length}`);
});

test('Redis connection retargeted mid-traffic: the next delivery lands in the new Redis; every acknowledged job is in one of the two', async (t: TestContext) => {
  const second = await startRedis();
  try {
    const traffic = startTraffic(send('/webhook/q'), { concurrency: 4, prefix: 'rt' });
    try {
      await waitFor(() => ok(traffic.outcomes).length >= 50, 10_000, 'traffic flowing');
      await retarget('redis_main', { type: 'redis', url: second.url });
      const probe = await send('/webhook/q')('retarget-probe');
      assert.equal(probe.status, 200);
      await waitFor(() => ok(traffic.outcomes).length >= 150, 10_000, 'traffic continues');
    } finally {
      await traffic.stop();
    }
    assertOnly200And503(traffic.outcomes, 'queue webhook');
    const [oldJobs, newJobs] = await Promise.all([jobIds(redis), jobIds(second)]);
    assert.ok(newJobs.has('retarget-probe') && !oldJobs.has('retarget-probe'), 'probe landed in the new Redis only');
    const acked = ok(traffic.outcomes).map((o) => o.id);
    const lost = acked.filter((id) => !oldJobs.has(id) && !newJobs.has(id));
    assert.deepEqual(lost, [], 'acknowledged then lost');
    t.diagnostic(`redis retarget: sent=${traffic.outcomes.length} acked=${acked.length} inOld=${acked.filter((id) => oldJobs.has(id)).length} inNew=${acked.filter((id) => newJobs.has(id)).length} lost=${lost.length}`);
  } finally {
    await retarget('redis_main', { type: 'redis', url: redis.url });
    await second.destroy();
  }
});

test('Kafka connection retargeted to a new broker: next delivery lands there; that broker stopped → 503 within the timeout', async (t: TestContext) => {
  const second = await startKafkaMock(['faults']);
  try {
    await retarget('kafka_main', { type: 'kafka', bootstrap_servers: second.bootstraps });
    const probe = await send('/webhook/k')('kafka-retarget-probe');
    assert.equal(probe.status, 200);
    const inNew = (await readTopic(second.bootstraps, 'faults')).map((r) => r.headers.get('cwm-delivery-id'));
    const inOld = (await readTopic(kafka.bootstraps, 'faults')).map((r) => r.headers.get('cwm-delivery-id'));
    assert.deepEqual(inNew, ['kafka-retarget-probe']);
    assert.ok(!inOld.includes('kafka-retarget-probe'));

    await second.stop();
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      const res = await send('/webhook/k')(`stopped-${i}`);
      outcomes.push({ id: `stopped-${i}`, status: res.status, ms: performance.now() - started, at: Date.now() });
      assert.ok(res.headers.get('retry-after'), 'Retry-After on 503');
    }
    assert.deepEqual(outcomes.map((o) => o.status), Array(8).fill(503));
    assert503sWithinTimeout(outcomes, 'kafka webhook, broker stopped');
    t.diagnostic(`kafka stopped: answered503=${outcomes.length} ms=${outcomes.map((o) => Math.round(o.ms)).join(',')}`);
  } finally {
    await second.stop();
  }
});
