/**
 * Real etcd (Debian etcd-server) for tests: one node or a 3-node loopback
 * cluster on free ports with temp data dirs, stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { freePort, waitFor } from './ports.js';
import { tempDir } from './temp-dir.js';

interface Node {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  proc?: ChildProcess;
}

export interface EtcdCluster {
  /** http://127.0.0.1:<port> per node. */
  readonly endpoints: string[];
  readonly nodes: readonly { name: string; clientUrl: string }[];
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  restart(index: number): Promise<void>;
  /** Kills every node, then (restart) starts them again with their data. */
  stopAll(): Promise<void>;
  startAll(): Promise<void>;
  /** Runs etcdctl against the cluster; resolves stdout. */
  ctl(...args: string[]): Promise<string>;
  /** Index of the current leader. */
  leaderIndex(): Promise<number>;
  destroy(): Promise<void>;
}

function url(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** Certificates for an etcd that serves clients over TLS and requires client certificates (see tls.ts). */
export interface EtcdTlsFiles {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

function httpsJson(target: string, tls: EtcdTlsFiles): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(target, { ca: readFileSync(tls.caFile), cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('error', reject);
  });
}

async function healthy(port: number, tls: EtcdTlsFiles | undefined): Promise<boolean> {
  try {
    const body = (tls ? await httpsJson(`https://127.0.0.1:${port}/health`, tls) : await (await fetch(`${url(port)}/health`)).json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

export interface EtcdOptions {
  /** Client ports chosen beforehand (e.g. to start a client before etcd exists); free ones otherwise. */
  clientPorts?: readonly number[];
  /** Serve clients over TLS with client-certificate auth; peers stay plain. */
  tls?: EtcdTlsFiles;
}

export async function startEtcd(size: 1 | 3 = 1, opts: EtcdOptions = {}): Promise<EtcdCluster> {
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    nodes.push({ name: `n${i}`, clientPort: opts.clientPorts?.[i] ?? (await freePort()), peerPort: await freePort(), dataDir: tempDir('cwm-etcd-') });
  }
  const initialCluster = nodes.map((n) => `${n.name}=${url(n.peerPort)}`).join(',');
  let started = false;
  const { tls } = opts;
  const clientUrl = (port: number): string => (tls ? `https://127.0.0.1:${port}` : url(port));
  const tlsFlags = tls ? ['--cert-file', tls.serverCertFile, '--key-file', tls.serverKeyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth'] : [];
  const ctlTlsFlags = tls ? [`--cacert=${tls.caFile}`, `--cert=${tls.clientCertFile}`, `--key=${tls.clientKeyFile}`] : [];

  const launch = (n: Node): void => {
    n.proc = spawn('etcd', [
      '--name', n.name, '--data-dir', n.dataDir,
      '--listen-client-urls', clientUrl(n.clientPort), '--advertise-client-urls', clientUrl(n.clientPort), ...tlsFlags,
      '--listen-peer-urls', url(n.peerPort), '--initial-advertise-peer-urls', url(n.peerPort),
      '--initial-cluster', initialCluster, '--initial-cluster-state', started ? 'existing' : 'new',
      '--heartbeat-interval', '10', '--election-timeout', '100', '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    n.proc.stderr?.resume();
  };

  const waitHealthy = (n: Node): Promise<boolean> => waitFor(() => healthy(n.clientPort, tls), 20_000, `etcd ${n.name} healthy`, 20);

  for (const n of nodes) launch(n);
  await Promise.all(nodes.map(waitHealthy));
  started = true;
  const endpoints = nodes.map((n) => clientUrl(n.clientPort));

  const cluster: EtcdCluster = {
    endpoints,
    nodes: nodes.map((n) => ({ name: n.name, clientUrl: clientUrl(n.clientPort) })),
    async kill(index, signal = 'SIGKILL') {
      const n = nodes[index] as Node;
      if (!n.proc) return;
      n.proc.kill(signal);
      await exited(n.proc);
      n.proc = undefined;
    },
    async restart(index) {
      const n = nodes[index] as Node;
      if (n.proc) await cluster.kill(index);
      launch(n);
      // A lone restarted member of a 3-node cluster is only healthy once it has a quorum again.
      if (size === 1) await waitHealthy(n);
    },
    async stopAll() {
      for (let i = 0; i < nodes.length; i++) await cluster.kill(i);
    },
    async startAll() {
      for (const n of nodes) if (!n.proc) launch(n);
      await Promise.all(nodes.map(waitHealthy));
    },
    ctl(...args) {
      return new Promise((resolve, reject) => {
        const live = nodes.filter((n) => n.proc).map((n) => clientUrl(n.clientPort));
        const p = spawn('etcdctl', [`--endpoints=${live.join(',')}`, ...ctlTlsFlags, ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`etcdctl ${args.join(' ')} failed: ${err}`))));
      });
    },
    async leaderIndex() {
      const out = await cluster.ctl('endpoint', 'status', '-w', 'json');
      const statuses = JSON.parse(out) as { Endpoint: string; Status: { header: { member_id: number | string }; leader: number | string } }[];
      const s = statuses.find((x) => String(x.Status.header.member_id) === String(x.Status.leader));
      if (!s) throw new Error('no leader');
      return endpoints.indexOf(s.Endpoint);
    },
    async destroy() {
      await cluster.stopAll();
      for (const n of nodes) rmSync(n.dataDir, { recursive: true, force: true });
    },
  };
  return cluster;
}
