/**
 * Real Redis (Debian redis-server) for tests: its own free port and temp dir,
 * run in the foreground so it is stopped, killed and restarted by PID.
 * `durable` turns on the append-only file with fsync per write, so data
 * acknowledged before a SIGKILL is still there after restart (fault tests
 * count what was acknowledged against what is found).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort, stillRunning, waitFor } from './ports.js';
import { tempDir } from './temp-dir.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** Kills the process (SIGKILL by default) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and dir; resolves once it answers PING. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

export async function startRedis(opts: { durable?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir('cwm-redis-');
  const persistence = opts.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  let proc: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-1000);
    });
    proc = p;
    await waitFor(async () => {
      stillRunning(p, 'redis-server', stderr.trim());
      return ping(port);
    }, 10_000, `redis on ${port}`);
  };

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc?.pid;
    },
    async kill(signal = 'SIGKILL') {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.kill(signal);
      await exited(p);
    },
    async restart() {
      await server.kill('SIGTERM');
      await launch();
    },
    async destroy() {
      await server.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await launch();
  return server;
}
