/**
 * CI smoke of the benchmark (`npm run bench -- --smoke`): every scenario runs
 * against real processes and reports a finite number for every figure, so the
 * benchmark cannot rot. Timing goals are not asserted: smoke runs are too
 * short, and CI machines too shared, for them to mean anything.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from '../../bench/lib/scenario.js';
import { SCENARIOS } from '../../bench/scenarios/index.js';
import { tempDir } from '../helpers/temp-dir.js';

const RUN = join(import.meta.dirname, '..', '..', 'bench', 'run.js');

/**
 * The bench runs in a process group of its own; the whole group (cwm, bare
 * server, etcd, Redis, wrk) is killed when the test ends or is cancelled, so
 * a timed-out run leaves nothing behind (one once left cwm and bare servers
 * running under load).
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

test('npm run bench -- --smoke reports numbers for every scenario', { timeout: 170_000 }, async (t: TestContext) => {
  const dir = tempDir('cwm-bench-smoke-');
  let pid: number | undefined;
  const cancelled = (): void => killGroup(pid);
  t.signal.addEventListener('abort', cancelled, { once: true });
  try {
    const json = join(dir, 'results.json');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [RUN, '--smoke', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      pid = p.pid;
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    assert.equal(code, 0, `bench exited with ${code}\n${stdout}\n${stderr}`);
    const { smoke, results } = JSON.parse(readFileSync(json, 'utf8')) as { smoke: boolean; results: ScenarioResult[] };
    assert.equal(smoke, true);
    assert.deepEqual(results.map((r) => r.scenario), SCENARIOS.map((s) => s.name));
    for (const r of results) {
      assert.equal(r.error, undefined, `${r.scenario} failed: ${r.error}`);
      assert.ok(r.figures.length >= 3, `${r.scenario} reported ${r.figures.length} figures`);
      for (const f of r.figures) assert.ok(Number.isFinite(f.value), `${r.scenario} / ${f.measure} = ${f.value}`);
      // The table printed on stdout carries every figure too.
      for (const f of r.figures) assert.ok(stdout.includes(f.measure), `table lacks ${f.measure}`);
    }
  } finally {
    t.signal.removeEventListener('abort', cancelled);
    killGroup(pid);
    rmSync(dir, { recursive: true, force: true });
  }
});
