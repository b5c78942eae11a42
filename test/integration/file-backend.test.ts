import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: string;
let cwm: CwmProcess;

function writeConfig(webhooks: unknown): void {
  // Written then renamed, as editors and deploy tools do.
  writeFileSync(join(dir, 'webhooks.tmp'), JSON.stringify(webhooks));
  renameSync(join(dir, 'webhooks.tmp'), join(dir, 'webhooks.json'));
}

before(async () => {
  dir = tempDir('cwm-file-');
  writeConfig({ hook1: { module: 'log' }, __proto__x: { module: 'log' } });
  cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir, ETCD_NAMESPACE: 'files' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
});

test('serves a webhook from webhooks.json in ETCD_NAMESPACE, by both routes', async () => {
  const a = await cwm.post('/webhook/hook1', { x: 1 });
  assert.equal(a.status, 200);
  const body = (await a.json()) as { status: string; delivery_id: string };
  assert.equal(body.status, 'accepted');
  assert.ok(body.delivery_id.length > 0);
  assert.equal((await cwm.post('/webhook/files/hook1', { x: 1 })).status, 200);
  assert.equal((await cwm.post('/webhook/default/hook1', { x: 1 })).status, 404);
});

test('reloads on file change: added, changed to invalid (kept), removed', async () => {
  writeConfig({ hook1: { module: 'log' }, hook2: { module: 'log' } });
  await waitFor(async () => (await cwm.post('/webhook/hook2', {})).status === 200, 5000, 'hook2 served');
  writeConfig({ hook1: { module: 'no-such-module' }, hook2: { module: 'log' } });
  await waitFor(() => cwm.logs.some((l) => String(l.msg).startsWith('invalid config entry ignored')), 5000, 'invalid entry logged');
  assert.equal((await cwm.post('/webhook/hook1', {})).status, 200, 'previous version of hook1 stays active');
  writeConfig({ hook1: { module: 'log' } });
  await waitFor(async () => (await cwm.post('/webhook/hook2', {})).status === 404, 5000, 'hook2 removed');
});

test('a file that is not JSON keeps the whole previous config', async () => {
  writeFileSync(join(dir, 'webhooks.json'), '{ not json');
  await waitFor(() => cwm.logs.some((l) => l.msg === 'config reload failed; previous config stays active'), 5000, 'reload failure logged');
  assert.equal((await cwm.post('/webhook/hook1', {})).status, 200);
});
