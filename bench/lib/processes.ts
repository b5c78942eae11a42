/**
 * Servers under test as real child processes: cwm through its built CLI and
 * the bare baseline. Their stdout goes to a file so that log volume costs
 * what a file costs, and the bench process never parses it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stillRunning, waitFor } from '../../test/helpers/ports.js';
import { CLI, launchOf } from '../../test/helpers/cwm-process.js';
import type { BenchContext } from './scenario.js';

const BARE_SERVER = join(import.meta.dirname, '..', 'bare-server.js');

export interface ServerProcess {
  readonly port: number;
  readonly baseUrl: string;
  readonly proc: ChildProcess;
  /** Milliseconds from spawn until the readiness probe answered 200. */
  readonly readyMs: number;
  /** Resident set size now, from /proc. */
  rssBytes(): number;
  /** CPU time (user + system) used so far, from /proc. */
  cpuSeconds(): number;
  /** SIGTERM and wait for exit (a --cpu-prof profile is written on a clean exit). */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Where stdout goes; /dev/null when absent. */
  readonly logFile?: string;
  /** Extra node flags (--cpu-prof ...). */
  readonly nodeArgs?: readonly string[];
  readonly readyPath?: string;
  readonly readyTimeoutMs?: number;
}

export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU time of a process and its children: its own, what it collected from
 * children that exited (cutime + cstime), and each live child's (one level:
 * PostgreSQL's backends are children of the postmaster).
 */
export function cpuTreeSecondsOf(pid: number): number {
  const fields = (p: number): string[] => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const own = fields(pid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      const f = fields(Number(child));
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile: its time is in the parent's cutime now
    }
  }
  return ticks / CLOCK_TICKS;
}

async function startNode(script: string, args: readonly string[], opts: SpawnOptions): Promise<ServerProcess> {
  const port = await freePort();
  const out = openSync(opts.logFile ?? '/dev/null', 'a');
  let stderr = '';
  const started = performance.now();
  // The environment and flags the script's own first line names (dist/cwm.js: malloc arenas, young-generation size), as executing it would.
  const launch = launchOf(script);
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...launch.nodeArgs, script, ...args], {
    env: { ...launch.env, PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...opts.env },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const readyPath = opts.readyPath ?? '/ready';
  try {
    await waitFor(async () => {
      stillRunning(proc, script, stderr);
      return (await fetch(baseUrl + readyPath)).status === 200;
    }, opts.readyTimeoutMs ?? 30_000, `${script} ${readyPath}`, 2);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  const readyMs = performance.now() - started;
  return {
    port,
    baseUrl,
    proc,
    readyMs,
    rssBytes: () => rssOf(proc.pid as number),
    cpuSeconds: () => cpuSecondsOf(proc.pid as number),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

export function startBare(opts: SpawnOptions = {}): Promise<ServerProcess> {
  return startNode(BARE_SERVER, [], { ...opts, readyPath: '/' });
}

/**
 * cwm through its CLI, logging (LOG_LEVEL=info, one line per delivery) to
 * <workDir>/<name>.cwm.log, with --cpu-prof into <profileDir>/<name>/ when profiling.
 */
export function startCwmServer(ctx: BenchContext, name: string, env: Readonly<Record<string, string>>, readyTimeoutMs?: number, cli = CLI): Promise<ServerProcess> {
  return startNode(cli, ['serve'], {
    env: { LOG_LEVEL: 'info', ...env },
    logFile: join(ctx.workDir, `${name}.cwm.log`),
    nodeArgs: ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.profileDir, name)}`] : [],
    readyTimeoutMs,
  });
}

/** Starts the servers in order, runs `body` with them (a tuple as long as `starts`), stops them all. */
export async function withServers<T, const S extends readonly (() => Promise<ServerProcess>)[]>(starts: S, body: (servers: { [K in keyof S]: ServerProcess }) => Promise<T>): Promise<T> {
  const servers: ServerProcess[] = [];
  try {
    for (const start of starts) servers.push(await start());
    // One server per start, in order: the tuple type holds.
    return await body(servers as { [K in keyof S]: ServerProcess });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
