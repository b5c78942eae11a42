/**
 * Real ClickHouse (Debian `clickhouse-server` 18.16) for tests: a minimal
 * config on free loopback ports and a temp dir, run in the foreground and
 * stopped by PID. Queries for checking go over plain HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stillRunning, waitFor } from './ports.js';

export interface ClickhouseServer {
  readonly httpPort: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
  /** Runs SQL over HTTP; returns the response text. */
  query(sql: string): Promise<string>;
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

export async function startClickhouse(): Promise<ClickhouseServer> {
  const [http, tcp] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'cwm-clickhouse-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'config.xml'), `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
`);
  writeFileSync(join(dir, 'users.xml'), `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`);
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const p = spawn('clickhouse-server', [`--config-file=${dir}/config.xml`], { stdio: 'ignore' });
    proc = p;
    await waitFor(async () => {
      stillRunning(p, 'clickhouse-server');
      const res = await fetch(`http://127.0.0.1:${http}/ping`).catch(() => undefined);
      return res !== undefined && (await res.text()).startsWith('Ok.');
    }, 20_000, `clickhouse on ${http}`, 20);
  };
  const server: ClickhouseServer = {
    httpPort: http,
    async kill(signal = 'SIGKILL') {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.kill(signal);
      await exited(p);
    },
    async restart() {
      await server.kill('SIGKILL');
      await launch();
    },
    async destroy() {
      await server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    async query(sql) {
      const res = await fetch(`http://127.0.0.1:${http}/`, { method: 'POST', body: sql });
      const text = await res.text();
      if (!res.ok) throw new Error(`clickhouse ${res.status}: ${text}`);
      return text;
    },
  };
  await launch();
  return server;
}
