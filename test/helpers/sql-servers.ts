/**
 * Throwaway PostgreSQL 15 (initdb) and MariaDB (mariadb-install-db) for fault
 * tests: own free port and temp dir, TCP only, run as direct children (so a
 * SIGKILL is reaped at once and the restart on the same port and dir works),
 * stopped by PID. Recipes: /work/shared/SERVICES.md §2–3.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { freePort, GaveUp, stillRunning, waitFor } from './ports.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface SqlServer {
  readonly port: number;
  /** The server process (postmaster / mariadbd) while it runs. */
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL by default) and waits until it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data dir; resolves once it answers a query. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

function account(name: string): { uid: number; gid: number } {
  const out = (flag: string): number => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return { uid: out('-u'), gid: out('-g') };
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

function run(cmd: string, args: string[], opts: { uid?: number; gid?: number } = {}): void {
  const r = spawnSync(cmd, args, { ...opts, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
}

async function server(port: number, dir: string, launchProc: () => ChildProcess, probe: () => Promise<boolean>, what: string): Promise<SqlServer> {
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const p = launchProc();
      proc = p;
      try {
        await waitFor(async () => {
          stillRunning(p, what);
          return probe();
        }, Math.max(1000, deadline - Date.now()), `${what} on ${port}`, 20);
        return;
      } catch (err) {
        // Right after a SIGKILL the dead server's children can still hold its shared memory, and
        // PostgreSQL refuses to start on it (exit 1; one run restarted 40 ms after the kill): try again.
        if (!(err instanceof GaveUp) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const s: SqlServer = {
    port,
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
      await s.kill('SIGTERM');
      await launch();
    },
    async destroy() {
      await s.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await launch();
  return s;
}

/** PostgreSQL with fsync on (the default): a committed row survives the kill because the server made it durable. */
export async function startPostgres(): Promise<SqlServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cwm-pg-'));
  const user = account('postgres');
  chownSync(dir, user.uid, user.gid);
  run(join(PG_BIN, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions'], user);
  const probe = async (): Promise<boolean> => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  return server(port, dir, () => {
    const p = spawn(join(PG_BIN, 'postgres'), ['-D', join(dir, 'data'), '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=50'], { ...user, stdio: ['ignore', 'ignore', 'ignore'] });
    return p;
  }, probe, 'postgres');
}

/** MariaDB with InnoDB defaults (flush at each commit); root@127.0.0.1 without a password. */
export async function startMariadb(): Promise<SqlServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cwm-maria-'));
  const user = account('mysql');
  chownSync(dir, user.uid, user.gid);
  run('mariadb-install-db', ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=mysql', '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', '--innodb-log-file-size=16M']);
  const probe = async (): Promise<boolean> => {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', connectTimeout: 1000 });
      await c.query('CREATE DATABASE IF NOT EXISTS test');
      await c.end();
      return true;
    } catch {
      return false;
    }
  };
  return server(port, dir, () =>
    spawn('mariadbd', ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=mysql', '--bind-address=127.0.0.1', `--port=${port}`, `--socket=${join(dir, 'mysqld.sock')}`, `--pid-file=${join(dir, 'mysqld.pid')}`, `--log-error=${join(dir, 'error.log')}`, '--skip-name-resolve', '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M'], { stdio: ['ignore', 'ignore', 'ignore'] }),
  probe, 'mariadbd');
}
