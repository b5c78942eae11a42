/**
 * Hostile senders against shared resources (issue 14): pipelining floods,
 * slowloris at the fd limit, failure-log floods while Redis is down, and
 * X-Request-Id reuse. Real cwm processes, real sockets, real Redis.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { configDirWith } from '../helpers/config-dir.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { metricSumAt, openUnreadConnections, pipelinedPost, pipelineFlood, probeFromOutside, warmUp } from '../helpers/flood.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function metricSum(cwm: CwmProcess, name: string): Promise<number> {
  return metricSumAt(cwm.baseUrl, name);
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m);
  return Number(m[1]) / 1024;
}

/** GET /health on a fresh connection; resolves the round trip in ms (rejects after timeoutMs). */
function probeHealth(port: number, timeoutMs = 5000): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`/health did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('connect', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        clearTimeout(timer);
        s.destroy();
        if (text.startsWith('HTTP/1.1 200')) resolve(performance.now() - t0);
        else reject(new Error(`health answered ${text.slice(0, 40)}`));
      }
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Probes /health every 200 ms until stop() resolves; returns every latency. */
function pollHealth(port: number, extra: () => void = () => {}): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  const failures: Error[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        latencies.push(await probeHealth(port));
      } catch (err) {
        failures.push(err as Error);
        process.stderr.write(`probe failed at ${new Date().toISOString()}: ${(err as Error).message}\n`);
      }
      extra();
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      for (let i = 0; i < failures.length; i++) latencies.push(Number.POSITIVE_INFINITY);
      return latencies;
    },
  };
}

// Found by this test: while 32 sockets flooded cwm, /health waited > 5 s although RSS stayed
// bounded: node parses a whole 64 KiB read at once and a log webhook answers before the next
// request is parsed, so one socket's read callback drained megabytes per turn of the loop.
// Fixed by read turns (src/http/read-turns.ts). What is left: node 20 accepts one connection per
// turn of the loop, so a probe on the shared port that arrives with the flood's 32 connections
// waits until they are all accepted (measured ~400 ms); PROBE_PORT has its own accept queue and
// is held to 100 ms throughout, the shared port from the moment cwm holds the flood's connections.
// cwm's stdout goes to a file: this process is busy flooding and would read a pipe late, and cwm's
// log writes would then wait for it.
const FLOOD_MS = 20_000;

test('32 connections pipelining POSTs without reading for 20 s: RSS ≤ 300 MB, /health < 100 ms', async (t) => {
  const dir = configDirWith({ sink: { module: 'log' } });
  const probePort = await freePort();
  const cwm = await startCwm({ CONFIG_DIR: dir.path, LOG_LEVEL: 'warn', PROBE_PORT: String(probePort) }, { logFile: join(tempDir('cwm-flood-log-'), 'cwm.log') });
  cleanups.push(() => cwm.stop(), async () => dir.remove());
  await metricSum(cwm, 'cwm_nodejs_eventloop_lag_max_seconds'); // resets the window
  const pid = cwm.proc.pid ?? 0;
  const body = JSON.stringify({ fill: 'x'.repeat(512) });
  const request = pipelinedPost('/webhook/sink', body);
  const batch = Buffer.concat(Array.from({ length: 64 }, () => request));
  await warmUp(cwm.port, request, 4000);
  let maxRss = rssMb(pid);
  const sockets = await openUnreadConnections(cwm.port, 32, `http://127.0.0.1:${probePort}`);
  const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, rssMb(pid))), 200);
  const probe = probeFromOutside(probePort, FLOOD_MS);
  const shared = probeFromOutside(cwm.port, FLOOD_MS);
  const written = await pipelineFlood(sockets, batch, FLOOD_MS);
  const probeLatencies = (await probe).map((p) => p.ms);
  const sharedProbes = await shared;
  clearInterval(rssTimer);
  for (const s of sockets) s.destroy();
  const sharedLatencies = sharedProbes.map((p) => p.ms);

  t.diagnostic(`PROBE_PORT latencies: ${probeLatencies.map((l) => l.toFixed(0)).join(' ')}`);
  t.diagnostic(`PORT latencies: ${sharedLatencies.map((l) => l.toFixed(0)).join(' ')}`);
  const lagMax = (await metricSum(cwm, 'cwm_nodejs_eventloop_lag_max_seconds')) * 1000;
  const pressure = await metricSum(cwm, 'cwm_http_backpressure_total');
  const actions = (await (await fetch(`${cwm.baseUrl}/metrics`)).text()).split('\n').filter((l) => l.startsWith('cwm_http_backpressure_total')).join('; ');
  t.diagnostic(`cwm event-loop lag max ${lagMax.toFixed(0)} ms; ${actions}`);
  t.diagnostic(`N = ${FLOOD_MS / 1000} s; written ${(written / 1048576).toFixed(1)} MiB of pipelined requests; cwm VmRSS max ${maxRss.toFixed(0)} MB; PROBE_PORT /health probes ${probeLatencies.length}, max ${Math.max(...probeLatencies).toFixed(1)} ms; PORT probes ${sharedLatencies.length}, max ${Math.max(...sharedLatencies).toFixed(1)} ms`);
  // Timed bounds here only tell a stall (5–16 s before the fix) from a working loop on a busy
  // 2-core machine; the 100 ms goal is measured by `npm run bench -- --only security` (docs/benchmarks.md).
  assert.ok(probeLatencies.length >= FLOOD_MS / 1000, `${probeLatencies.length} probes`);
  assert.ok(maxRss <= 300, `RSS ${maxRss} MB`);
  assert.ok(Math.max(...probeLatencies) < 1000, `/health on PROBE_PORT took ${Math.max(...probeLatencies)} ms`);
  assert.ok(Math.max(...sharedLatencies) < 1000, `/health on PORT took ${Math.max(...sharedLatencies)} ms`);
  assert.ok(pressure > 0, 'backpressure engaged (paused, throttled or refused)');
});

test('slowloris: 1100 slow-header connections against ulimit -n 1024; /health answers throughout', async (t) => {
  const dir = configDirWith({ sink: { module: 'log' } });
  const cwm = await startCwm({ CONFIG_DIR: dir.path }, { ulimit: 1024 });
  cleanups.push(() => cwm.stop(), async () => dir.remove());
  const limits = readFileSync(`/proc/${cwm.proc.pid ?? 0}/limits`, 'utf8');
  assert.match(limits, /Max open files\s+1024\s/, 'cwm runs under ulimit -n 1024');
  const own = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  assert.ok(own && Number(own[1]) >= 2500, `the test process needs ≥ 2500 fds, has ${own?.[1]}`);
  const sockets: Socket[] = [];
  const poll = pollHealth(cwm.port);
  for (let i = 0; i < 1100; i++) {
    const s = connect(cwm.port, '127.0.0.1');
    s.on('error', () => s.destroy());
    s.on('connect', () => s.write('POST /webhook/sink HTTP/1.1\r\nHost: x\r\n'));
    sockets.push(s);
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 50));
  }
  // Keep them slow: one header byte per second each, for 4 s.
  for (let round = 0; round < 4; round++) {
    await new Promise((r) => setTimeout(r, 1000));
    for (const s of sockets) if (!s.destroyed) s.write('X');
  }
  const latencies = await poll.stop();
  const refused = await metricSum(cwm, 'cwm_http_connections_refused_total');
  const alive = sockets.filter((s) => !s.destroyed).length;
  for (const s of sockets) s.destroy();
  const maxLatency = Math.max(...latencies);
  const logged = cwm.logs.filter((l) => /connection/i.test(String(l.msg)) && Number(l.level) >= 40).length;
  t.diagnostic(`1100 slow connections, cwm fd limit 1024: /health probes ${latencies.length}, max ${maxLatency.toFixed(1)} ms; cwm_http_connections_refused_total ${refused}; slow sockets still open at the end ${alive}; warn lines about connections ${logged}`);
  assert.ok(latencies.length >= 10);
  assert.ok(maxLatency < 1000, `/health took ${maxLatency} ms`);
  assert.ok(refused > 0, 'refusals counted');
  assert.equal(cwm.proc.exitCode, null, 'cwm still running');
});

test('Redis down + 2000 failing requests: a handful of "delivery failed" lines, every failure counted', async (t) => {
  const deadPort = await freePort();
  const dir = configDirWith(
    { q: { module: 'redis_queue', connection: 'gone', 'module-config': { queue_name: 'never' } } },
    { gone: { type: 'redis', url: `redis://127.0.0.1:${deadPort}` } },
  );
  const cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: '500', LOG_SUMMARY_INTERVAL_MS: '5000' });
  cleanups.push(() => cwm.stop(), async () => dir.remove());
  const before = await metricSum(cwm, 'cwm_output_errors_total');
  const statuses = new Map<number, number>();
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      while (next < 2000) {
        next++;
        const res = await cwm.post('/webhook/q', { n: next });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  const burstMs = Date.now() - started;
  const errors = (await metricSum(cwm, 'cwm_output_errors_total')) - before;
  const failures = (): Record<string, unknown>[] => cwm.logs.filter((l) => String(l.msg).startsWith('delivery failed'));
  const suppressed = (): number => failures().reduce((sum, l) => sum + (typeof l.repeated === 'number' ? l.repeated : 1), 0);
  // The last summary comes at most one interval after the burst.
  await waitFor(() => suppressed() === errors, 10_000, 'summaries to account for every failure');
  t.diagnostic(`2000 requests in ${burstMs} ms → ${JSON.stringify([...statuses])}; cwm_output_errors_total +${errors}; "delivery failed" lines ${failures().length} (first + summaries), accounting for ${suppressed()}`);
  assert.deepEqual([...statuses], [[503, 2000]]);
  assert.equal(errors, 2000, 'every failure counted');
  // First line + one summary per 5 s interval (the burst takes ~10 s on a loaded machine), whatever the request count.
  const bound = 2 + Math.ceil((Date.now() - started) / 5000);
  assert.ok(failures().length <= bound, `${failures().length} lines, bound ${bound}`);
});

test('X-Request-Id reuse: two bodies → two BullMQ jobs; the same body twice → one job', async (t) => {
  const redis: RedisServer = await startRedis();
  const dir = configDirWith(
    { q: { module: 'redis_queue', connection: 'main', 'module-config': { queue_name: 'rid' } } },
    { main: { type: 'redis', url: redis.url } },
  );
  const cwm = await startCwm({ CONFIG_DIR: dir.path, ALLOW_LOCALHOST_FOR_TESTS: 'true' });
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  cleanups.push(() => redis.destroy(), () => cwm.stop(), async () => dir.remove(), async () => client.disconnect());
  await client.connect();
  const send = async (body: unknown): Promise<string> => {
    const res = await cwm.post('/webhook/q', body, { 'x-request-id': 'shared-id-1' });
    const json = (await res.json()) as { delivery_id: string };
    assert.equal(res.status, 200);
    return json.delivery_id;
  };
  const a = await send({ v: 'A' });
  const b = await send({ v: 'B' });
  const a2 = await send({ v: 'A' });
  const jobs = (await client.keys('bull:rid:*')).filter((k) => /^bull:rid:[^:]+$/.test(k) && !['bull:rid:id', 'bull:rid:meta', 'bull:rid:wait', 'bull:rid:events', 'bull:rid:marker'].includes(k));
  t.diagnostic(`delivery ids: A=${a}, B=${b}, A again=${a2}; BullMQ job hashes: ${jobs.length}`);
  assert.notEqual(a, b);
  assert.equal(a, a2);
  assert.equal(jobs.length, 2);
  assert.equal(await client.llen('bull:rid:wait'), 2);
});
