import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { Redis } from 'ioredis';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startRedis } from '../helpers/redis.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A POST whose body is sent in two parts, so it is in flight until finish() is called. */
function slowPost(cwm: CwmProcess, path: string): { req: ClientRequest; finish(): void; answer: Promise<Answer> } {
  const req = request({ host: '127.0.0.1', port: cwm.port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  req.write('{"part":');
  return { req, finish: () => req.end('"two"}'), answer };
}

/**
 * One request on a fresh connection: "refused" when the server no longer
 * accepts connections (a connection still in the kernel's accept queue when
 * the listener closes is reset: never seen by cwm, so also "refused").
 */
async function quickPost(cwm: CwmProcess, path: string): Promise<Answer | 'refused'> {
  try {
    const res = await fetch(cwm.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: '{"quick":true}' });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return 'refused';
    throw err;
  }
}

async function inFlight(cwm: CwmProcess): Promise<number> {
  const text = await (await fetch(`${cwm.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('cwm_requests_in_flight '));
  return Number(line?.split(' ')[1]);
}

function configDir(webhooks: Record<string, unknown> = { hook: { module: 'log' } }): ConfigDir {
  const dir = makeConfigDir();
  dir.write('webhooks.json', webhooks);
  return dir;
}

/**
 * 20 requests in flight (body half sent) plus 3 loops of quick requests, then
 * SIGTERM. Every in-flight request must complete with 200, no connection is
 * refused before the signal, and the process exits 0. Resolves the delivery
 * ids of every 2xx answer, for the caller to find at the destination.
 */
async function sigtermUnderTraffic(cwm: CwmProcess, path: string): Promise<string[]> {
  const slow = Array.from({ length: 20 }, () => slowPost(cwm, path));
  await waitFor(async () => (await inFlight(cwm)) >= 20, 5000, '20 slow requests in flight');

  const quick: (Answer | 'refused')[] = [];
  let signalled = false;
  const refusedBeforeSignal: number[] = [];
  const worker = async (): Promise<void> => {
    for (;;) {
      const a = await quickPost(cwm, path);
      quick.push(a);
      if (a === 'refused') {
        if (!signalled) refusedBeforeSignal.push(quick.length);
        return;
      }
    }
  };
  const loops = [worker(), worker(), worker()];
  await waitFor(() => quick.length >= 30, 5000, 'background traffic flowing');

  signalled = true;
  cwm.proc.kill('SIGTERM');
  await waitFor(() => cwm.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('shutting down')), 5000, 'shutdown started');
  for (const s of slow) s.finish();

  const answers = await Promise.all(slow.map((s) => s.answer));
  for (const a of answers) {
    assert.equal(a.status, 200, a.body);
    assert.equal((JSON.parse(a.body) as { status: string }).status, 'accepted');
  }
  assert.equal(await cwm.stop(), 0, 'exit code');
  await Promise.all(loops);
  assert.deepEqual(refusedBeforeSignal, [], 'no connection refused before the signal');

  const accepted = [...answers, ...quick.filter((q): q is Answer => q !== 'refused')];
  for (const a of accepted) assert.equal(a.status, 200, a.body);
  assert.ok(accepted.length >= 50, `traffic flowed (${accepted.length} accepted)`);
  assert.ok(cwm.logs.some((l) => l.msg === 'stopped'));
  return accepted.map((a) => (JSON.parse(a.body) as { delivery_id: string }).delivery_id);
}

test('SIGTERM under traffic: in-flight requests complete, every 2xx delivery is logged, exit 0', async () => {
  const dir = configDir();
  const cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, SHUTDOWN_TIMEOUT_MS: '10000' });
  try {
    const ids = await sigtermUnderTraffic(cwm, '/webhook/hook');
    const logged = new Set(cwm.logs.filter((l) => l.msg === 'webhook received').map((l) => l.delivery_id));
    assert.deepEqual(ids.filter((id) => !logged.has(id)), [], 'every 2xx delivery is in the log');
  } finally {
    await cwm.stop();
    dir.remove();
  }
});

test('SIGTERM under traffic to a redis_queue webhook: every 2xx is a BullMQ job, the Redis client closes cleanly', async () => {
  const redis = await startRedis();
  const dir = configDir({ queued: { module: 'redis_queue', connection: 'redis_main', 'module-config': { queue_name: 'shutdown' } } });
  dir.write('connections.json', { redis_main: { type: 'redis', url: redis.url } });
  const cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, SHUTDOWN_TIMEOUT_MS: '10000' });
  const client = new Redis(redis.url, { lazyConnect: true });
  try {
    const ids = await sigtermUnderTraffic(cwm, '/webhook/queued');
    await client.connect();
    const missing: string[] = [];
    for (const id of ids) if ((await client.exists(`bull:shutdown:${id}`)) !== 1) missing.push(id);
    assert.deepEqual(missing, [], `every 2xx delivery is a job (${ids.length} checked)`);
    assert.ok(!cwm.logs.some((l) => Number(l.level) >= 50), 'no error logged while closing');
  } finally {
    client.disconnect();
    await cwm.stop();
    dir.remove();
    await redis.destroy();
  }
});

test('a request that never finishes does not hold shutdown past SHUTDOWN_TIMEOUT_MS', async () => {
  const dir = configDir();
  const cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, SHUTDOWN_TIMEOUT_MS: '300' });
  try {
    const stuck = slowPost(cwm, '/webhook/hook');
    stuck.answer.catch(() => undefined);
    await waitFor(async () => (await inFlight(cwm)) >= 1, 5000, 'stuck request in flight');
    const started = Date.now();
    assert.equal(await cwm.stop('SIGINT'), 0);
    const took = Date.now() - started;
    assert.ok(took >= 300 && took < 3000, `shutdown took ${took} ms`);
    assert.ok(cwm.logs.some((l) => l.msg === 'in-flight requests still open at the shutdown deadline; closing their connections'));
    stuck.req.destroy();
  } finally {
    await cwm.stop();
    dir.remove();
  }
});
