/** CWM's `"_comment": "..."` notes in webhooks.json / connections.json are skipped by the file backend and `cwm validate --many`, not refused. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';

const webhooks = { _comment: 'CWM-style note about these webhooks', hook1: { data_type: 'json', module: 'log' } };
let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  dir = configDirWith(webhooks, { _comment: 'connections note' });
  cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'c' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  dir.remove();
});

test('the file backend serves the webhooks and skips the _comment entries without complaint', async () => {
  assert.equal((await cwm.post('/webhook/hook1', { a: 1 })).status, 200);
  assert.equal((await cwm.post('/webhook/_comment', { a: 1 })).status, 404);
  const complaints = cwm.logs.filter((l) => JSON.stringify(l).includes('_comment'));
  assert.deepEqual(complaints, []);
});

test('cwm validate --many accepts a file with a _comment note; a _comment holding an object is still judged', async () => {
  const ok = await runCli(['validate', '--many', '-'], { input: JSON.stringify(webhooks) });
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await runCli(['validate', '--many', '-'], { input: JSON.stringify({ _comment: { module: 'nope' } }) });
  assert.equal(bad.code, 1);
});
