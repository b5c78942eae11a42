/**
 * Drives HTTP load with wrk (far lighter than autocannon, which matters on a
 * 2-core machine where the load generator competes with the server). A Lua
 * script sets the POST body and headers, optionally spreads requests over
 * many paths, and prints the summary as one JSON line we parse.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadOptions {
  readonly baseUrl: string;
  /** One path, or many: each request then picks one at random. */
  readonly paths: readonly string[];
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly durationS: number;
  readonly threads?: number;
  /** Ends the run early (wrk stops on SIGINT and still reports). */
  readonly signal?: AbortSignal;
}

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Connect/read/write errors and timeouts: requests that got no answer. */
  readonly socketErrors: number;
  /** Answers with status >= 400. */
  readonly badStatus: number;
}

const MARK = 'WRK-RESULT ';

function luaString(s: string): string {
  // JSON string escapes (\" \\ \n \uXXXX for control chars) are valid Lua escapes except \u, which JSON.stringify never emits for printable ASCII.
  if (/[^\x20-\x7e]/.test(s)) throw new Error('load paths and header values must be printable ASCII');
  return JSON.stringify(s);
}

function script(bodyFile: string, opts: LoadOptions): string {
  const headers = Object.entries({ 'Content-Type': 'application/json', ...opts.headers })
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join('\n');
  const paths = opts.paths.map(luaString).join(',\n');
  return `
local f = assert(io.open(${luaString(bodyFile)}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
${headers}
local paths = { ${paths} }
if #paths > 1 then
  request = function() return wrk.format(nil, paths[math.random(#paths)]) end
else
  wrk.path = paths[1]
end
done = function(s, latency)
  local e = s.errors
  io.write(string.format('${MARK}{"requests":%d,"duration_us":%d,"socket_errors":%d,"bad_status":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    s.requests, s.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cwm-wrk-'));
  try {
    const bodyFile = join(dir, 'body.json');
    const luaFile = join(dir, 'post.lua');
    writeFileSync(bodyFile, opts.body);
    writeFileSync(luaFile, script(bodyFile, opts));
    const args = ['-t', String(opts.threads ?? 1), '-c', String(opts.connections), '-d', `${opts.durationS}s`, '--timeout', '5s', '-s', luaFile, opts.baseUrl + opts.paths[0]];
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', (err) => reject(new Error(`cannot run wrk (apt-get install wrk): ${err.message}`)));
      opts.signal?.addEventListener('abort', () => p.kill('SIGINT'), { once: true });
      p.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`wrk exited with ${code}: ${stderr}`))));
    });
    const line = out.split('\n').find((l) => l.startsWith(MARK));
    if (!line) throw new Error(`wrk printed no result line:\n${out}`);
    const r = JSON.parse(line.slice(MARK.length)) as Record<'requests' | 'duration_us' | 'socket_errors' | 'bad_status' | 'p50_us' | 'p99_us' | 'max_us', number>;
    return {
      requests: r.requests,
      rps: r.requests / (r.duration_us / 1e6),
      p50Ms: r.p50_us / 1000,
      p99Ms: r.p99_us / 1000,
      maxMs: r.max_us / 1000,
      socketErrors: r.socket_errors,
      badStatus: r.bad_status,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
