/**
 * Real brokers owned by a test (recipes in /work/shared/SERVICES.md): a
 * RabbitMQ node, a Mosquitto with change-by-change persistence and a
 * nats-server with JetStream file storage, each on free loopback ports with
 * a temp dir, a direct child of the test (so it is reaped at once), killed
 * and restarted by PID on the same port and dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqplib from 'amqplib';
import { freePort, stillRunning, waitFor } from './ports.js';

export interface Broker {
  readonly port: number;
  /** The broker process (beam.smp for RabbitMQ), while it runs. */
  readonly pid: number | undefined;
  /** Kills the process (SIGKILL by default) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and dir; resolves once it serves its protocol. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

function managed(port: number, dir: string, start: () => ChildProcess, ready: (p: ChildProcess) => Promise<unknown>): Broker & { launch(): Promise<void> } {
  let proc: ChildProcess | undefined;
  const broker = {
    port,
    get pid() {
      return proc?.pid;
    },
    async launch() {
      const p = start();
      proc = p;
      await ready(p);
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.kill(signal);
      await exited(p);
    },
    async restart() {
      await broker.kill('SIGTERM');
      await broker.launch();
    },
    async destroy() {
      await broker.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return broker;
}

export async function startRabbitmq(): Promise<Broker> {
  const [port, dist] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'cwm-rmq-'));
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`);
  writeFileSync(join(dir, 'enabled_plugins'), '[].');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    RUNNING_UNDER_SYSTEMD: 'true', // makes the script exec erl: the child's PID is beam.smp
    RABBITMQ_NODENAME: `cwmtest-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const broker = managed(
    port,
    dir,
    () => spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { env, stdio: 'ignore' }),
    (p) =>
      waitFor(async () => {
        stillRunning(p, 'rabbitmq-server');
        const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
        await conn.close();
        return true;
      }, 40_000, `rabbitmq on ${port}`, 100),
  );
  await broker.launch();
  return broker;
}

/** A raw MQTT 3.1.1 CONNECT answered by CONNACK 0. */
function mqttProbe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write(Buffer.from([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x02, 0x70, 0x72])));
    s.on('data', (d: Buffer) => done(d[0] === 0x20 && d[3] === 0));
  });
}

export async function startMosquitto(): Promise<Broker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cwm-mqtt-'));
  // autosave on every change: a message acknowledged (PUBACK) is on disk before a kill -9.
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'user root', 'persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'autosave_on_changes true', 'max_queued_messages 100000', `log_dest file ${dir}/mosquitto.log`, ''].join('\n'),
  );
  const broker = managed(
    port,
    dir,
    () => spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' }),
    (p) =>
      waitFor(async () => {
        stillRunning(p, 'mosquitto');
        return mqttProbe(port);
      }, 10_000, `mosquitto on ${port}`, 20),
  );
  await broker.launch();
  return broker;
}

export async function startNats(): Promise<Broker> {
  const [port, mport] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'cwm-nats-'));
  const broker = managed(
    port,
    dir,
    () => spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-m', String(mport), '-js', '-sd', join(dir, 'js'), '-n', `cwmtest-${port}`, '-l', join(dir, 'nats.log')], { stdio: 'ignore' }),
    (p) =>
      waitFor(async () => {
        stillRunning(p, 'nats-server');
        const res = await fetch(`http://127.0.0.1:${mport}/healthz`);
        return res.ok;
      }, 10_000, `nats on ${port}`, 20),
  );
  await broker.launch();
  return broker;
}
