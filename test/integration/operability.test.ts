/**
 * Small truths an operator relies on: /health names only components that
 * exist, cwm_ready agrees with /ready during shutdown, and bad settings
 * (LOG_LEVEL, a busy port) are named in the message instead of "unexpected failure".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { createCwm } from '../../src/app.js';
import { loadSettings } from '../../src/settings.js';
import { runCli } from '../helpers/cli.js';
import { configDirWith } from '../helpers/config-dir.js';
import { startCwm } from '../helpers/cwm-process.js';
import { freePort, waitFor } from '../helpers/ports.js';

test('/health on the file backend names no etcd component', async () => {
  const dir = configDirWith({ hook: { module: 'log' } });
  const cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path });
  try {
    const res = await fetch(`${cwm.baseUrl}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'healthy', components: { config_manager: 'healthy' } });
  } finally {
    assert.equal(await cwm.stop(), 0);
    dir.remove();
  }
});

test('delivery lines carry no component; the config manager\'s own lines say component config', async () => {
  const dir = configDirWith({ hook: { module: 'log' } });
  const cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path });
  try {
    assert.equal((await cwm.post('/webhook/hook', { n: 1 })).status, 200);
    dir.write('webhooks.json', {});
    await waitFor(() => cwm.logs.some((l) => l.msg === 'webhook removed'), 5000, 'the removal line');
    const received = cwm.logs.find((l) => l.msg === 'webhook received');
    assert.ok(received, 'a delivery line');
    assert.equal(received.component, undefined, JSON.stringify(received));
    assert.equal(cwm.logs.find((l) => l.msg === 'webhook removed')?.component, 'config');
  } finally {
    assert.equal(await cwm.stop(), 0);
    dir.remove();
  }
});

test('cwm_ready turns 0 the moment shutdown begins, as /ready turns 503', async () => {
  const dir = configDirWith({ hook: { module: 'log' } });
  const settings = loadSettings({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, HOST: '127.0.0.1', PORT: '0' });
  const cwm = createCwm(settings, pino({ level: 'silent' }));
  try {
    const address = await cwm.start();
    await cwm.loaded;
    const ready = async (): Promise<string> => (await cwm.metrics.registry.getSingleMetricAsString('cwm_ready')).trim().split('\n').pop() ?? '';
    assert.equal(await ready(), 'cwm_ready 1');
    assert.equal((await fetch(`http://127.0.0.1:${address.port}/ready`)).status, 200);
    const stopped = cwm.stop();
    assert.equal(await ready(), 'cwm_ready 0');
    await stopped;
  } finally {
    dir.remove();
  }
});

test('LOG_LEVEL=verbose is refused with a message naming LOG_LEVEL', async () => {
  const r = await runCli(['serve'], { env: { LOG_LEVEL: 'verbose', PORT: String(await freePort()), HOST: '127.0.0.1' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
  assert.doesNotMatch(r.stderr, /unexpected failure/);
});

test('a busy port is refused with a message naming PORT and HOST', async () => {
  const blocker = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    const r = await runCli(['serve'], { env: { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(PORT, HOST\\): the address is already in use`));
    assert.doesNotMatch(r.stderr, /unexpected failure/);
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});
