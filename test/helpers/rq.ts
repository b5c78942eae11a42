/**
 * A real, unmodified Python RQ worker (Debian's python3-rq, `rq worker
 * --burst`) running the jobs cwm enqueued. The function it runs is a small
 * module written into a temp dir on PYTHONPATH: `tasks.record(payload,
 * headers)` writes one JSON file per job with what Python received — the
 * repr of (payload, headers) (which shows int from float, key order and every
 * character), the payload's `id` when it has one, and the job's own fields as
 * the worker loaded them.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** Debian's rq and interpreter (a pyenv python3 earlier on PATH has no rq). */
export const RQ_BIN = '/usr/bin/rq';
export const PYTHON = '/usr/bin/python3';

const TASKS_PY = `
import json, os
from rq import get_current_job
from rq.utils import get_call_string

OUT = os.environ['CWM_RQ_OUT']

def record(payload, headers):
    job = get_current_job()
    seen = {
        'job_id': job.id,
        'args_repr': repr((payload, headers)),
        'payload_id': payload.get('id') if isinstance(payload, dict) else None,
        'headers': headers,
        'origin': job.origin,
        'timeout': job.timeout,
        'description': job.description,
        'rq_description': get_call_string(job.func_name, job.args, job.kwargs, max_length=75),
        'enqueued_at': job.enqueued_at.isoformat() if job.enqueued_at else None,
    }
    tmp = os.path.join(OUT, job.id + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(seen, f, ensure_ascii=False)
    os.rename(tmp, os.path.join(OUT, job.id + '.json'))
    return 'recorded'
`;

export interface RecordedJob {
  readonly job_id: string;
  readonly args_repr: string;
  readonly payload_id: string | null;
  readonly headers: Record<string, string>;
  readonly origin: string;
  readonly timeout: number;
  readonly description: string;
  readonly rq_description: string;
  readonly enqueued_at: string | null;
}

export interface RqTasks {
  /** Put on PYTHONPATH: holds tasks.py. */
  readonly path: string;
  /** Where tasks.record writes one <job id>.json per job run. */
  readonly outDir: string;
  recorded(): RecordedJob[];
}

export function makeRqTasks(): RqTasks {
  const path = tempDir('cwm-rq-');
  const outDir = join(path, 'out');
  mkdirSync(outDir);
  writeFileSync(join(path, 'tasks.py'), TASKS_PY);
  return {
    path,
    outDir,
    recorded: () => readdirSync(outDir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8')) as RecordedJob),
  };
}

export interface WorkerRun {
  readonly code: number | null;
  readonly output: string;
}

/**
 * `rq worker --burst --url <redis> <queues…>`: runs every job in the queues and
 * exits. `simple` picks RQ's own SimpleWorker (no fork per job: ~10x the
 * throughput, for tests that drain hundreds of jobs).
 */
export function runRqWorker(tasks: RqTasks, redisUrl: string, queues: readonly string[], opts: { simple?: boolean; timeoutMs?: number } = {}): Promise<WorkerRun> {
  const args = ['worker', '--burst', '--url', redisUrl, ...(opts.simple ? ['--worker-class', 'rq.worker.SimpleWorker'] : []), ...queues];
  const proc = spawn(RQ_BIN, args, {
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: tasks.path, CWM_RQ_OUT: tasks.outDir, LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`rq worker did not finish within ${opts.timeoutMs ?? 30_000} ms:\n${output.slice(-2000)}`));
    }, opts.timeoutMs ?? 30_000);
    proc.once('error', reject);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
