/** Runs the built cwm CLI as a real child process, as operators do, and talks to it over HTTP. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stillRunning, waitFor } from './ports.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'cwm.js');

/** How a script asks to be run: environment and node flags from its `#!/usr/bin/env -S [NAME=value ...] node [flags]` line. */
export interface Launch {
  readonly env: Readonly<Record<string, string>>;
  readonly nodeArgs: readonly string[];
}

/** Spawning `node <nodeArgs> script` with `env` added runs the script as executing the file would, with room for more flags. */
export function launchOf(script: string): Launch {
  const first = readFileSync(script, 'utf8').slice(0, 300).split('\n', 1)[0] ?? '';
  const words = first.startsWith('#!') ? first.slice(2).trim().split(/\s+/) : [];
  const node = words.indexOf('node');
  if (node === -1) return { env: {}, nodeArgs: [] };
  const env: Record<string, string> = {};
  for (const word of words.slice(0, node)) {
    const eq = word.indexOf('=');
    if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { env, nodeArgs: words.slice(node + 1) };
}

const CLI_LAUNCH = launchOf(CLI);
/** `node` arguments that run the CLI as its bin does... */
export const CLI_ARGS: readonly string[] = [...CLI_LAUNCH.nodeArgs, CLI];
/** ...with this environment added (what its first line sets). */
export const CLI_ENV: Readonly<Record<string, string>> = CLI_LAUNCH.env;

/** The environment a spawned CLI gets: its first line's, PATH, then `env` (nothing else of this process leaks in). */
export function cliEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return { ...CLI_ENV, PATH: process.env.PATH ?? '', ...env };
}

export interface CwmProcess {
  readonly port: number;
  readonly baseUrl: string;
  readonly proc: ChildProcess;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  waitReady(timeoutMs?: number): Promise<void>;
  /** Sends SIGTERM and resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `ulimit` runs cwm under `bash -c 'ulimit -n N; exec node …'`: a soft open-file limit of its own, as a container's `--ulimit nofile` would set. */
/**
 * `logFile` sends cwm's stdout to that file instead of a pipe to this process: a load test whose own
 * event loop is busy flooding would read the pipe late, and cwm's synchronous log writes would then
 * wait for this process (cwm's stdout is a blocking pipe), measuring the test instead of cwm.
 */
export async function startCwm(env: Record<string, string>, opts: { waitReady?: boolean; ulimit?: number; logFile?: string } = {}): Promise<CwmProcess> {
  const port = await freePort();
  const logs: Record<string, unknown>[] = [];
  const command = opts.ulimit === undefined ? process.execPath : 'bash';
  const args = opts.ulimit === undefined ? [...CLI_ARGS, 'serve'] : ['-c', `ulimit -n ${opts.ulimit} && exec "$0" "$@" serve`, process.execPath, ...CLI_ARGS];
  const logFd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'a');
  const proc = spawn(command, args, {
    env: cliEnv({ HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', logFd ?? 'pipe', 'pipe'],
  });
  if (logFd !== undefined) closeSync(logFd);
  let buffered = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const cwm: CwmProcess = {
    port,
    baseUrl,
    proc,
    logs,
    post(path, body = {}, headers = {}) {
      return fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    },
    async waitReady(timeoutMs = 15_000) {
      await waitFor(async () => {
        stillRunning(proc, 'cwm', stderr);
        const res = await fetch(`${baseUrl}/ready`);
        return res.status === 200;
      }, timeoutMs, 'cwm /ready');
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exit;
    },
  };
  try {
    await waitFor(async () => {
      stillRunning(proc, 'cwm', stderr);
      const status = (await fetch(`${baseUrl}/health`)).status;
      if (status !== 200) throw new Error(`/health answered ${status}`);
      return true;
    }, 15_000, 'cwm /health');
    if (opts.waitReady !== false) await cwm.waitReady();
  } catch (err) {
    // A child left running keeps this test process alive (its pipes) until the file's timeout.
    const state = proc.exitCode === null && proc.signalCode === null ? `still running (pid ${proc.pid})` : `exited (${proc.exitCode ?? proc.signalCode})`;
    proc.kill('SIGKILL');
    const tail = logs.slice(-5).map((l) => JSON.stringify(l)).join('\n');
    throw new Error(`${(err as Error).message}; cwm on port ${port} ${state}; stderr: ${stderr.slice(-500) || '(none)'}; last log lines:\n${tail || '(none)'}`, { cause: err });
  }
  return cwm;
}
