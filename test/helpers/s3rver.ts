/**
 * s3rver (npm, a protocol-faithful S3 server storing objects as plain files)
 * as a separate process on its own free port and temp dir, so a fault test
 * can kill it by PID and start it again on the same port and data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort, stillRunning, waitFor } from './ports.js';

const require = createRequire(import.meta.url);
const BIN = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');

export interface S3Server {
  readonly port: number;
  readonly endpoint: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
  client(): S3Client;
  /** Removes objects a kill -9 left half-written (never acknowledged); returns how many. */
  dropUnfinishedObjects(): number;
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

export async function startS3rver(): Promise<S3Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cwm-s3rver-'));
  const endpoint = `http://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const p = spawn(process.execPath, [BIN, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent'], { stdio: 'ignore' });
    proc = p;
    await waitFor(async () => {
      stillRunning(p, 's3rver');
      const res = await fetch(`${endpoint}/`).catch(() => undefined);
      return res?.status === 200;
    }, 15_000, `s3rver on ${port}`, 20);
  };
  const server: S3Server = {
    port,
    endpoint,
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
    dropUnfinishedObjects() {
      // s3rver writes an object's metadata with a plain writeFile, so a kill -9 mid-PUT leaves an
      // object whose metadata is missing or cut, and every later listing of the bucket answers 500.
      // s3rver answers a PUT only after both files are written: such an object was never acknowledged.
      let dropped = 0;
      const walk = (d: string): void => {
        for (const entry of readdirSync(d, { withFileTypes: true })) {
          const path = join(d, entry.name);
          if (entry.isDirectory()) walk(path);
          else if (entry.name.endsWith('._S3rver_object')) {
            const metadata = `${path.slice(0, -'object'.length)}metadata.json`;
            let whole = false;
            try {
              JSON.parse(readFileSync(metadata, 'utf8'));
              whole = true;
            } catch {
              whole = false;
            }
            if (!whole) {
              rmSync(path, { force: true });
              rmSync(metadata, { force: true });
              dropped++;
            }
          }
        }
      };
      walk(dir);
      return dropped;
    },
    client: () =>
      new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
  };
  await launch();
  return server;
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function listKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<{ body: string; contentType?: string; metadata: Record<string, string> }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: (await res.Body?.transformToString()) ?? '', contentType: res.ContentType, metadata: res.Metadata ?? {} };
}
