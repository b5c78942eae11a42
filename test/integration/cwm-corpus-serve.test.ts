/**
 * CWM's corpus served by a running cwm: every webhook the judge accepts
 * (without placeholders, which need the operator's environment, and under
 * names the key rule allows: the corpus's keys are made up by the collector) is loaded by
 * the file backend with no entry dropped, and CWM's plain log webhooks answer
 * 200 unchanged.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { judgeCorpus, OPERATOR_SETTINGS } from '../../scripts/corpus.js';
import { isValidName } from '../../src/config/keys.js';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const corpus = new Map(Object.entries(JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'test', 'data', 'cwm-corpus', 'webhooks.json'), 'utf8')) as Record<string, unknown>));
const refused = new Set(judgeCorpus('webhook').refused.map((r) => r.name));
// webhook_connect entries are out of the corpus share (judgeCorpus skips them); save_to_disk gets an operator's root as in the judge.
const served = new Map([...corpus].filter(([name, config]) => !refused.has(name) && isValidName(name) && !JSON.stringify(config).includes('{$') && !JSON.stringify(config).includes('webhook_connect')));
const plainLog = [...served].filter(([, config]) => {
  const keys = Object.keys(config as object);
  return (config as { module?: unknown }).module === 'log' && keys.every((k) => k === 'data_type' || k === 'module' || k === 'module-config');
}).map(([name]) => name);

let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  dir = configDirWith(Object.fromEntries(served));
  // The operator settings the judge assumed (DEFAULT_CONNECTIONS among them), with a real save_to_disk root.
  cwm = await startCwm({ ...OPERATOR_SETTINGS, CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'corpus', SAVE_TO_DISK_BASE_DIR: tempDir('cwm-corpus-disk-') });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  dir.remove();
});

test('every accepted corpus webhook is served: none dropped at load', () => {
  assert.ok(served.size >= 20, `served ${served.size}`);
  const dropped = cwm.logs.filter((l) => String(l.msg).startsWith('invalid config entry ignored'));
  assert.deepEqual(dropped.map((l) => `${String(l.key)}: ${String(l.reason)}`), []);
});

test("CWM's plain log webhooks answer 200 unchanged", async () => {
  assert.ok(plainLog.length >= 1);
  for (const name of plainLog) {
    const res = await cwm.post(`/webhook/${name}`, { event: 'corpus' });
    assert.equal(res.status, 200, name);
  }
});
