/**
 * A pipelining flood against a cwm process and /health probes from outside it: shared by
 * test/integration/hostile-resources.test.ts (the defence holds) and bench/scenarios/flood.ts
 * (how well: /health percentiles, RSS, event-loop lag).
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { waitFor } from './ports.js';

/** The sum of every sample of a Prometheus metric (all label sets) at `baseUrl`/metrics. */
export async function metricSumAt(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/** One pipelined POST of `body` (JSON) to `path`, as raw bytes. */
export function pipelinedPost(path: string, body: string): Buffer {
  return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * GET /health on a fresh connection every 200 ms for durationMs, from a node process of its own:
 * the caller is busy flooding, and its own event loop would add its lag to what it measures.
 * Resolves each probe's start (ms since the epoch) and round trip in ms (Infinity when it failed).
 */
export function probeFromOutside(port: number, durationMs: number): Promise<{ at: number; ms: number }[]> {
  const script = `
    import { connect } from 'node:net';
    const out = [];
    const probe = () => new Promise((resolve) => {
      const t0 = performance.now();
      const s = connect(${port}, '127.0.0.1');
      let text = '';
      const done = (ok) => { clearTimeout(timer); s.destroy(); resolve(ok ? performance.now() - t0 : null); };
      const timer = setTimeout(() => done(false), 5000);
      s.on('connect', () => s.write('GET /health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
      s.on('data', (d) => { text += d.toString('latin1'); if (text.includes('\\r\\n\\r\\n')) done(text.startsWith('HTTP/1.1 200')); });
      s.on('error', () => done(false));
    });
    const end = Date.now() + ${durationMs};
    while (Date.now() < end) {
      const at = Date.now();
      out.push({ at, ms: await probe() });
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stdout.write(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: durationMs + 30_000 }, (err, stdout) => {
      if (err) return reject(err);
      const probes = JSON.parse(stdout) as { at: number; ms: number | null }[];
      resolve(probes.map((p) => ({ at: p.at, ms: p.ms ?? Number.POSITIVE_INFINITY })));
    });
  });
}

/**
 * Sends `count` pipelined copies of `request` on one connection and reads every answer.
 * A running instance has compiled its hot path; a cold one's first thousands of requests cost
 * several times more, which is startup, not what a flood measures.
 */
export function warmUp(port: number, request: Buffer, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let answers = 0;
    let tail = '';
    s.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      answers += text.split('HTTP/1.1 ').length - 1;
      tail = text.slice(-12);
      if (answers >= count) {
        s.destroy();
        resolve();
      }
    });
    s.on('error', reject);
    (async () => {
      for (let sent = 0; sent < count; sent += 100) {
        if (!s.write(Buffer.concat(Array.from({ length: 100 }, () => request)))) await new Promise((r) => s.once('drain', r));
        while (sent - answers > 400) await new Promise((r) => setTimeout(r, 5));
      }
    })().catch(reject);
  });
}

/**
 * Opens `count` connections to `port` that never read an answer, and resolves once cwm holds them
 * all (cwm_http_connections_open at `metricsBaseUrl`, best the PROBE_PORT listener): node accepts one
 * connection per turn of the loop, so a burst of connections is its own wait, not the flood's.
 */
export async function openUnreadConnections(port: number, count: number, metricsBaseUrl: string): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = connect(port, '127.0.0.1');
    s.pause(); // never read an answer
    s.on('error', () => s.destroy());
    sockets.push(s);
  }
  await waitFor(async () => (await metricSumAt(metricsBaseUrl, 'cwm_http_connections_open')) >= count, 10_000, 'flood connections accepted');
  return sockets;
}

/** Each socket writes `batch` whenever the kernel takes more, for durationMs; resolves the bytes written. */
export async function pipelineFlood(sockets: readonly Socket[], batch: Buffer, durationMs: number): Promise<number> {
  let written = 0;
  const until = Date.now() + durationMs;
  await Promise.all(
    sockets.map(async (s) => {
      while (Date.now() < until && !s.destroyed) {
        // Yield after every write: a loop that never awaits would starve this process's other work.
        if (s.write(batch)) {
          written += batch.length;
          await new Promise((r) => setImmediate(r));
        } else
          await new Promise<void>((r) => {
            const done = (): void => {
              clearTimeout(timer);
              s.off('drain', done);
              r();
            };
            const timer = setTimeout(done, 100);
            s.once('drain', done);
          });
      }
    }),
  );
  return written;
}
