/**
 * The compose scenario's own seed_etcd.sh and run_test.sh, run against the
 * Docker-free local stack (real etcd, real Redis, two cwm processes): the
 * same script CI and operators use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

test('scripts/local-stack.sh: run_test.sh passes against two cwm instances on one etcd, both exit 0 on SIGTERM', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const proc = spawn('bash', [join(ROOT, 'scripts', 'local-stack.sh')], { cwd: ROOT, env: { ...process.env, POLL_TIMEOUT_S: '20' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    proc.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  assert.equal(code, 0, `local-stack failed:\n${stdout}\n${stderr.slice(-4000)}`);
  assert.match(stdout, /^ok \d+ - every 2xx of the redis_queue webhook is a BullMQ job in Redis/m);
  assert.match(stdout, /^all 11 checks passed$/m);
  assert.doesNotMatch(stdout + stderr, /not ok/);
  assert.equal(stdout.match(/^local-stack: cwm pid \d+ exited 0 after SIGTERM$/gm)?.length, 2);
});
