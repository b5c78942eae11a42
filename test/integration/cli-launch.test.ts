/**
 * dist/cwm.js executed itself (the bin, `npm start`, the image's entrypoint)
 * runs node with the environment and flags its first line names, and
 * launchOf() (which the tests and the bench spawn node with) reads the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { configDirWith } from '../helpers/config-dir.js';
import { CLI, CLI_ARGS, CLI_ENV, launchOf } from '../helpers/cwm-process.js';
import { freePort, stillRunning, waitFor } from '../helpers/ports.js';

test('executing dist/cwm.js runs node with MALLOC_ARENA_MAX=2 and --max-semi-space-size=8, as launchOf reads them', async () => {
  assert.deepEqual(launchOf(CLI), { env: { MALLOC_ARENA_MAX: '2' }, nodeArgs: ['--max-semi-space-size=8'] });
  assert.deepEqual(CLI_ENV, { MALLOC_ARENA_MAX: '2' });
  assert.deepEqual(CLI_ARGS, ['--max-semi-space-size=8', CLI]);
  const dir = configDirWith({ hook: { module: 'log' } });
  const port = await freePort();
  const proc = spawn(CLI, ['serve'], { env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), CONFIG_DIR: dir.path, LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  try {
    await waitFor(async () => {
      stillRunning(proc, 'cwm');
      return (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200;
    }, 15_000, 'cwm /ready');
    const environ = readFileSync(`/proc/${proc.pid}/environ`, 'utf8').split('\0');
    const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(environ.includes('MALLOC_ARENA_MAX=2'), 'the assignment reached the process');
    assert.ok(cmdline.includes('--max-semi-space-size=8'), cmdline.join(' '));
    assert.match(cmdline[0] ?? '', /node$/, 'env exec()s node in place: the pid is node\'s');
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    dir.remove();
  }
});
