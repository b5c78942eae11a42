/**
 * The durable spool against real Redis servers started here: one holds the
 * spool (append-only, fsync per write), a second is the destination
 * (redis_stream: XADD per attempt, so duplicates are counted, not hidden),
 * and the test kills and restarts it. cwm runs as real processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { runCli } from '../helpers/cli.js';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

let spool: RedisServer;
let dest: RedisServer;
let proxy: TcpProxy;
let dir: ConfigDir;
let a: CwmProcess;
let spoolClient: Redis;
let queue: Queue;
const others: CwmProcess[] = [];

const retry = { enabled: true, max_attempts: 20, initial_delay: 0.2, max_delay: 1 };
const streamHook = (stream: string, r: Record<string, unknown> = retry): Record<string, unknown> => ({ module: 'redis_stream', connection: 'dest', 'module-config': { stream, include_headers: false }, retry: r });
const ENV = (): Record<string, string> => ({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: '1000', SPOOL_CONNECTION: 'spool', SPOOL_LOCK_MS: '3000', LOG_LEVEL: 'info', DELIVERIES_ADMIN_TOKEN: TOKEN });
const TOKEN = 'test-admin-token';

async function startInstance(): Promise<CwmProcess> {
  const c = await startCwm(ENV());
  others.push(c);
  return c;
}

/** Delivery ids found in a destination stream, each with how often it arrived. */
async function arrivals(stream: string): Promise<Map<string, number>> {
  const client = new Redis(dest.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    const entries = await client.xrange(stream, '-', '+');
    const seen = new Map<string, number>();
    for (const [, fields] of entries) {
      const id = fields[fields.indexOf('delivery_id') + 1] as string;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    return seen;
  } finally {
    client.disconnect();
  }
}

async function postAll(c: CwmProcess | ((i: number) => CwmProcess), path: string, ids: string[]): Promise<string[]> {
  const spoolIds: string[] = [];
  for (const [i, id] of ids.entries()) {
    const target = typeof c === 'function' ? c(i) : c;
    const res = await target.post(path, { id, n: i }, { 'x-delivery-id': id });
    const body = (await res.json()) as { status: string; delivery_id: string; spool_id: string };
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(body.status, 'queued');
    assert.equal(body.delivery_id, id);
    spoolIds.push(body.spool_id);
  }
  return spoolIds;
}

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

before(async () => {
  [spool, dest] = await Promise.all([startRedis({ durable: true }), startRedis({ durable: true })]);
  proxy = await startTcpProxy(dest.port);
  dir = configDirWith(
    { s6: { ...streamHook('s6'), connection: 'slow' }, s5: streamHook('s5'), s1: streamHook('s1'), s2: streamHook('s2'), s3: streamHook('s3'), dl: streamHook('dl', { enabled: true, max_attempts: 2, initial_delay: 0.1, max_delay: 0.1 }), sync: { module: 'redis_stream', connection: 'dest', 'module-config': { stream: 'sync' } } },
    { spool: { type: 'redis', url: spool.url }, dest: { type: 'redis', url: dest.url }, slow: { type: 'redis', url: `redis://127.0.0.1:${proxy.port}` } },
  );
  a = await startCwm(ENV());
  spoolClient = new Redis(spool.url, { maxRetriesPerRequest: null });
  queue = new Queue('deliveries', { connection: spoolClient, prefix: 'cwm-spool' });
});

after(async () => {
  await queue.close();
  spoolClient.disconnect();
  for (const c of [a, ...others]) await c.stop('SIGKILL');
  await proxy.close();
  await Promise.all([spool.destroy(), dest.destroy()]);
  dir.remove();
});

test('destination down → 202 → destination up → each delivery id delivered exactly once; a sender retry adds nothing', async () => {
  await dest.kill();
  const list = ids('t1', 10);
  const first = await postAll(a, '/webhook/s1', list);
  // The sender retries every delivery: same id, same spool job.
  assert.deepEqual(await postAll(a, '/webhook/s1', list), first);
  // A webhook without retry still answers synchronously: 503 while its destination is down.
  assert.equal((await a.post('/webhook/sync', { x: 1 })).status, 503);
  await dest.restart();
  const seen = await waitFor(async () => {
    const s = await arrivals('s1');
    return s.size === list.length ? s : undefined;
  }, 30_000, 'all t1 deliveries', 200);
  // Left time for a stray second attempt to show up, then counted again.
  await waitFor(async () => (await queue.getJobCounts('active', 'waiting', 'delayed')).active === 0, 10_000, 'spool idle', 100);
  const again = await arrivals('s1');
  for (const id of list) assert.equal(again.get(id), 1, `${id} arrived ${again.get(id) ?? 0} times`);
  assert.equal(seen.size, 10);
});

test('dead-lettered after max_attempts with its last error; the CLI shows it and replay delivers it', async () => {
  await dest.kill();
  const [spoolId] = await postAll(a, '/webhook/dl', ['dead-1']);
  assert.ok(spoolId);
  await waitFor(async () => (await queue.getJobState(spoolId)) === 'failed', 20_000, 'dead letter', 100);
  const redisArg = ['--redis', spool.url];
  const listed = await runCli(['deliveries', 'list', '--dead', 'default/dl', ...redisArg]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`^${spoolId}\\tdefault/dl\\tdead-1\\tattempts=2\\t`, 'm'));
  const shown = await runCli(['deliveries', 'show', spoolId, ...redisArg]);
  assert.equal(shown.code, 0, shown.stderr);
  const info = JSON.parse(shown.stdout) as Record<string, unknown>;
  assert.equal(info.state, 'dead');
  assert.equal(info.attempts, 2);
  assert.match(String(info.last_error), /redis_stream/);
  assert.equal(info.payload, undefined, 'payload only with --payload');
  const withPayload = JSON.parse((await runCli(['deliveries', 'show', spoolId, '--payload', ...redisArg])).stdout) as Record<string, unknown>;
  assert.equal(withPayload.payload, JSON.stringify({ id: 'dead-1', n: 0 }));
  // The admin API: off without the token, lists the dead letter with it.
  assert.equal((await fetch(`${a.baseUrl}/admin/deliveries?dead=true`)).status, 401);
  assert.equal((await fetch(`${a.baseUrl}/admin/deliveries?dead=true`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const api = await fetch(`${a.baseUrl}/admin/deliveries?dead=true&filter=default/dl`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(api.status, 200);
  const apiBody = (await api.json()) as { deliveries: { spool_id: string; state: string; attempts: number; last_error: string }[] };
  assert.deepEqual(apiBody.deliveries.map((d) => [d.spool_id, d.state, d.attempts]), [[spoolId, 'dead', 2]]);
  const one = await fetch(`${a.baseUrl}/admin/deliveries/${encodeURIComponent(spoolId)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(one.status, 200);
  assert.equal(((await one.json()) as { payload?: unknown }).payload, undefined);
  // Replaying something that is not dead is refused.
  const notDead = await runCli(['deliveries', 'replay', 'no-such-id', ...redisArg]);
  assert.equal(notDead.code, 1);
  await dest.restart();
  await waitFor(async () => (await a.post('/webhook/sync', { x: 1 })).status === 200, 15_000, 'destination back in cwm', 200);
  assert.equal((await arrivals('dl')).size, 0, 'nothing delivered before the replay');
  const replayed = await runCli(['deliveries', 'replay', spoolId, ...redisArg]);
  assert.equal(replayed.code, 0, replayed.stderr);
  await waitFor(async () => (await arrivals('dl')).get('dead-1') === 1, 20_000, 'replayed delivery', 200);
  assert.equal(await queue.getJobState(spoolId), 'completed');
});

test('two instances sharing one spool deliver each delivery once', async () => {
  const b = await startInstance();
  const list = ids('t2', 60);
  await postAll((i) => (i % 2 === 0 ? a : b), '/webhook/s2', list);
  await waitFor(async () => (await arrivals('s2')).size === list.length, 30_000, 'all t2 deliveries', 200);
  await waitFor(async () => (await queue.getJobCounts('active', 'waiting', 'delayed')).active === 0, 10_000, 'spool idle', 100);
  const seen = await arrivals('s2');
  const duplicates = [...seen.values()].reduce((n, k) => n + k - 1, 0);
  assert.equal(duplicates, 0);
  const delivered = async (c: CwmProcess): Promise<number> => {
    const text = await (await fetch(`${c.baseUrl}/metrics`)).text();
    return Number(/^cwm_spool_delivered_total\{namespace="default"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  console.log(`# t2: instance A delivered ${await delivered(a)} spool jobs in total, B ${await delivered(b)}; duplicates ${duplicates}`);
  assert.equal(await b.stop(), 0, 'graceful stop');
});

test('kill -9 of cwm with deliveries waiting: a restarted instance delivers them all', async () => {
  await dest.kill();
  const list = ids('t3', 30);
  await postAll(a, '/webhook/s3', list);
  await a.stop('SIGKILL');
  await dest.restart();
  a = await startCwm(ENV());
  await waitFor(async () => (await arrivals('s3')).size === list.length, 40_000, 'all t3 deliveries', 200);
  await waitFor(async () => (await queue.getJobCounts('active', 'waiting', 'delayed')).active === 0, 10_000, 'spool idle', 100);
  const seen = await arrivals('s3');
  const duplicates = [...seen.values()].reduce((n, k) => n + k - 1, 0);
  console.log(`# t3: ${seen.size} of ${list.length} delivered after kill -9, ${duplicates} duplicate(s)`);
  for (const id of list) assert.ok((seen.get(id) ?? 0) >= 1, `${id} lost`);
});

test('kill -9 of cwm mid-delivery: nothing lost, duplicates counted', async () => {
  const list = ids('t5', 300);
  for (let i = 0; i < list.length; i += 25) {
    await Promise.all(list.slice(i, i + 25).map(async (id) => assert.equal((await a.post('/webhook/s5', { id }, { 'x-delivery-id': id })).status, 202)));
  }
  // Killed while attempts are running, unless the whole batch was already through.
  await waitFor(async () => (await arrivals('s5')).size >= 30, 20_000, 'first deliveries', 20);
  await a.stop('SIGKILL');
  const atKill = (await arrivals('s5')).size;
  a = await startCwm(ENV());
  await waitFor(async () => (await arrivals('s5')).size === list.length, 40_000, 'all t5 deliveries', 200);
  await waitFor(async () => (await queue.getJobCounts('active', 'waiting', 'delayed')).active === 0, 10_000, 'spool idle', 100);
  const seen = await arrivals('s5');
  const duplicates = [...seen.values()].reduce((n, k) => n + k - 1, 0);
  console.log(`# t5: killed with ${atKill} of ${list.length} delivered; afterwards ${seen.size} delivered, ${duplicates} duplicate(s)`);
  for (const id of list) assert.ok((seen.get(id) ?? 0) >= 1, `${id} lost`);
});

test('the admin API replays every dead letter of a webhook', async () => {
  await dest.kill();
  const list = ids('t4', 3);
  const spoolIds = await postAll(a, '/webhook/dl', list);
  for (const id of spoolIds) await waitFor(async () => (await queue.getJobState(id)) === 'failed', 20_000, 'dead letter', 100);
  await dest.restart();
  // Replayed only once cwm's destination client is back: two attempts 0.1 s apart would otherwise both fail again.
  await waitFor(async () => (await a.post('/webhook/sync', { x: 1 })).status === 200, 15_000, 'destination back in cwm', 200);
  const res = await fetch(`${a.baseUrl}/admin/deliveries/replay-dead?filter=default/dl`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { replayed: 3 });
  await waitFor(async () => {
    const seen = await arrivals('dl');
    return list.every((id) => seen.get(id) === 1);
  }, 20_000, 'replayed deliveries', 200);
});

test('SIGTERM with attempts in flight: the worker lets them finish, none is left locked or lost', async () => {
  const list = ids('t6', 5);
  // Warm the client through the proxy first, then stall it: attempts hang until OUTPUT_TIMEOUT_MS.
  await postAll(a, '/webhook/s6', ['t6-warm']);
  await waitFor(async () => (await arrivals('s6')).get('t6-warm') === 1, 20_000, 'warm-up delivery', 100);
  proxy.stall();
  await postAll(a, '/webhook/s6', list);
  await waitFor(async () => ((await queue.getJobCounts('active')).active ?? 0) > 0, 10_000, 'attempts in flight', 20);
  assert.equal(await a.stop('SIGTERM'), 0);
  const counts = await queue.getJobCounts('active', 'failed');
  assert.equal(counts.active, 0, 'no attempt left holding a lock');
  const states = await Promise.all(list.map((id) => queue.getJobState(`default/s6/${id}`)));
  for (const s of states) assert.ok(s === 'waiting' || s === 'delayed' || s === 'prioritized', `state ${s}`);
  proxy.resume();
  a = await startCwm(ENV());
  await waitFor(async () => {
    const seen = await arrivals('s6');
    return list.every((id) => (seen.get(id) ?? 0) >= 1);
  }, 30_000, 't6 deliveries after the restart', 200);
});

test('503 + Retry-After when the spool cannot take the delivery; 202 again once it is back', async () => {
  await spool.kill();
  const res = await a.post('/webhook/s1', { id: 'x' }, { 'x-delivery-id': 'spool-down-1' });
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
  await spool.restart();
  let last = '';
  await waitFor(async () => {
    const r = await a.post('/webhook/s1', { id: 'x' }, { 'x-delivery-id': 'spool-down-1' });
    last = `${r.status} ${await r.text()}`;
    return r.status === 202;
  }, 30_000, 'spool back', 200).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last answer ${last}; cwm log tail ${JSON.stringify(a.logs.slice(-5))}`);
  });
  await waitFor(async () => (await arrivals('s1')).get('spool-down-1') === 1, 20_000, 'delivered after the spool came back', 200);
});
