/**
 * Real ActiveMQ (Debian `activemq` 5.17) for tests: java run directly with
 * a STOMP (and OpenWire) transport on free loopback ports, KahaDB in a temp
 * dir, no JMX; killed and restarted by PID on the same ports and data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type IMessage } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';
import { freePort, stillRunning, waitFor } from './ports.js';

const HOME = '/usr/share/activemq';

export interface ActiveMq {
  readonly stompPort: number;
  /** ms from spawn to the first STOMP CONNECTED, per start. */
  readonly startMs: number[];
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

/** A raw STOMP CONNECT answered by CONNECTED. */
function stompProbe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('CONNECT\naccept-version:1.2\nhost:localhost\n\n\0'));
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= 9) done(got.startsWith('CONNECTED'));
    });
  });
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

export async function startActivemq(): Promise<ActiveMq> {
  const [openwire, stomp] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'cwm-activemq-'));
  mkdirSync(join(dir, 'data'));
  let proc: ChildProcess | undefined;
  const startMs: number[] = [];
  const launch = async (): Promise<void> => {
    const t0 = Date.now();
    const uri = `broker:(tcp://127.0.0.1:${openwire},stomp://127.0.0.1:${stomp})?useJmx=false&brokerName=it&dataDirectory=${dir}/data`;
    const p = spawn('java', ['-Xms64m', '-Xmx256m', `-Dactivemq.home=${HOME}`, `-Dactivemq.base=${dir}`, `-Dactivemq.conf=${dir}`, `-Dactivemq.data=${dir}/data`, '-jar', `${HOME}/bin/activemq.jar`, 'start', uri], { stdio: 'ignore' });
    proc = p;
    await waitFor(async () => {
      stillRunning(p, 'activemq');
      return stompProbe(stomp);
    }, 30_000, `activemq on ${stomp}`, 50);
    startMs.push(Date.now() - t0);
  };
  const broker: ActiveMq = {
    stompPort: stomp,
    startMs,
    async kill(signal = 'SIGKILL') {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.kill(signal);
      await exited(p);
    },
    async restart() {
      await broker.kill('SIGTERM');
      await launch();
    },
    async destroy() {
      await broker.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await launch();
  return broker;
}

/** A STOMP consumer on one destination, collecting every message it gets. */
export async function consume(port: number, destination: string): Promise<{ messages: IMessage[]; stop(): Promise<void> }> {
  const messages: IMessage[] = [];
  const client = new Client({ webSocketFactory: () => new TCPWrapper('127.0.0.1', port), reconnectDelay: 0, debug: () => undefined });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => {
      client.subscribe(destination, (m) => messages.push(m));
      resolve();
    };
    client.onWebSocketError = () => reject(new Error('consumer could not connect'));
    client.activate();
  });
  return { messages, stop: () => client.deactivate() };
}
