/**
 * Kafka test broker: librdkafka's mock cluster behind our own launcher
 * (scripts/kafka-mock/kafka-mock.c), compiled on first use into a cache dir
 * keyed by the source's hash, started per test file and stopped by PID.
 * Records are read back with kcat, a different client than the one cwm
 * produces with, so the wire format is checked too.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stillRunning, waitFor } from './ports.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const SOURCE = join(ROOT, 'scripts', 'kafka-mock', 'kafka-mock.c');

export interface KafkaMock {
  readonly bootstraps: string;
  readonly pid: number | undefined;
  /** Every broker refuses connections (data kept) until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReadRecord {
  readonly key: string | null;
  readonly value: string;
  readonly partition: number;
  readonly headers: Map<string, string>;
}

export async function kafkaMockBinary(): Promise<string> {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cwm');
  const bin = join(dir, `kafka-mock-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // Built under a private name and renamed: test files running in parallel may build at once.
  const tmp = `${bin}.${process.pid}`;
  await run('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, '-lrdkafka', '-lpthread']);
  renameSync(tmp, bin);
  return bin;
}

export async function startKafkaMock(topics: readonly string[], opts: { partitions?: number } = {}): Promise<KafkaMock> {
  const bin = await kafkaMockBinary();
  const proc: ChildProcess = spawn(bin, ['-p', String(opts.partitions ?? 1), ...topics], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  proc.stdout?.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      lines.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const bootLine = await waitFor(() => {
    stillRunning(proc, 'kafka-mock', stderr);
    return lines.find((l) => l.startsWith('bootstraps '));
  }, 10_000, 'kafka-mock bootstraps');

  const signal = async (sig: NodeJS.Signals, ack: string): Promise<void> => {
    const before = lines.filter((l) => l === ack).length;
    proc.kill(sig);
    await waitFor(() => lines.filter((l) => l === ack).length > before, 5000, `kafka-mock ${ack}`);
  };
  return {
    bootstraps: bootLine.slice('bootstraps '.length),
    get pid() {
      return proc.pid;
    },
    down: () => signal('SIGUSR1', 'down'),
    up: () => signal('SIGUSR2', 'up'),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exit;
    },
  };
}

interface KcatRecord {
  key: string | null;
  payload: string | null;
  partition: number;
  headers?: string[] | null;
}

/** Every record of `topic` so far (kcat reads to the end of each partition, then exits). */
export async function readTopic(bootstraps: string, topic: string): Promise<ReadRecord[]> {
  const { stdout } = await run('kcat', ['-b', bootstraps, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-J'], { maxBuffer: 256 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l.trim().length > 0).map((line) => {
    const r = JSON.parse(line) as KcatRecord;
    const headers = new Map<string, string>();
    const flat = r.headers ?? [];
    for (let i = 0; i + 1 < flat.length; i += 2) headers.set(flat[i] as string, flat[i + 1] as string);
    return { key: r.key, value: r.payload ?? '', partition: r.partition, headers };
  });
}
