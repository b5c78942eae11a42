/**
 * save_to_disk through a real cwm process and a real directory: the file
 * (CWM's `<uuid4>.txt` naming, the body bytes, mode 0600, no temp file left),
 * confinement under SAVE_TO_DISK_BASE_DIR/<namespace>, a symlink escape
 * refused at write time, a CWM-format config from CWM's docs, and the
 * directory taken away mid-traffic (moved aside and replaced by a plain file,
 * since root ignores read-only modes) and given back: no delivery answered
 * 200 is missing on disk.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startTraffic, type Outcome } from '../helpers/traffic.js';

let root: string;
let outside: string;
let dir: ConfigDir;
let cwm: CwmProcess;
const ns = (): string => join(root, 'default');

/** Delivery ids found in `<dir>`'s files (each holds one JSON body with an `id`). */
function idsIn(d: string): Set<string> {
  if (!existsSync(d) || !statSync(d).isDirectory()) return new Set();
  return new Set(readdirSync(d).filter((f) => f.endsWith('.txt')).map((f) => (JSON.parse(readFileSync(join(d, f), 'utf8')) as { id: string }).id));
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'cwm-disk-'));
  outside = mkdtempSync(join(tmpdir(), 'cwm-outside-'));
  mkdirSync(ns(), { recursive: true });
  symlinkSync(outside, join(ns(), 'escape'));
  dir = configDirWith({
    s: { module: 'save_to_disk', 'module-config': { path: 'incoming' } },
    abs: { module: 'save_to_disk', 'module-config': { base_dir: '/data', path: '/data/webhooks' } },
    // CWM's docs (README "save_to_disk" example).
    cwm_doc: { data_type: 'json', module: 'save_to_disk', 'module-config': { path: 'webhooks' }, authorization: 'secret' },
    esc: { module: 'save_to_disk', 'module-config': { path: 'escape/deeper' } },
    ft: { module: 'save_to_disk', 'module-config': { path: 'ft' } },
    dots: { module: 'save_to_disk', 'module-config': { path: 'a/../../etc' } },
    encoded: { module: 'save_to_disk', 'module-config': { path: '%252e%252e/x' } },
    outside_base: { module: 'save_to_disk', 'module-config': { base_dir: 'mine', path: '/theirs' } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: '1000', SAVE_TO_DISK_BASE_DIR: root });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  dir.remove();
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

test('one <uuid4>.txt per delivery holding the body bytes, mode 0600, no temp file left', async () => {
  const body = '{"id":"one","x":[1,2,3]}';
  assert.equal((await cwm.post('/webhook/s', body)).status, 200);
  const files = readdirSync(join(ns(), 'incoming'));
  assert.equal(files.length, 1, files.join(','));
  assert.match(files[0] as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.txt$/);
  const file = join(ns(), 'incoming', files[0] as string);
  assert.equal(readFileSync(file, 'utf8'), body);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('absolute base_dir and path are read inside the namespace directory', async () => {
  assert.equal((await cwm.post('/webhook/abs', { id: 'abs-1' })).status, 200);
  assert.deepEqual([...idsIn(join(ns(), 'data', 'webhooks'))], ['abs-1']);
});

test("CWM's documented save_to_disk config delivers end to end", async () => {
  assert.equal((await cwm.post('/webhook/cwm_doc', { id: 'doc-1' }, { authorization: 'secret' })).status, 200);
  assert.equal((await cwm.post('/webhook/cwm_doc', { id: 'doc-2' })).status, 401);
  assert.deepEqual([...idsIn(join(ns(), 'webhooks'))], ['doc-1']);
});

test('traversal is refused at config time with a pointer; a symlink out of the namespace directory at write time', async () => {
  const reasons = (): string => cwm.logs.filter((l) => String(l.msg).startsWith('invalid config entry ignored')).map((l) => `${String(l.key)} ${String(l.reason)}`).join('\n');
  await waitFor(() => reasons().split('\n').length >= 3, 5000, 'three refusals');
  assert.match(reasons(), /dots.*\/module-config\/path must not contain "\.\."/);
  assert.match(reasons(), /encoded.*\/module-config\/path must not contain "\.\."/);
  assert.match(reasons(), /outside_base.*\/module-config\/path must lie inside base_dir/);
  const res = await cwm.post('/webhook/esc', { id: 'esc-1' });
  assert.equal(res.status, 503);
  assert.deepEqual(readdirSync(outside), [], 'nothing written through the symlink');
});

test('directory taken away mid-traffic and given back: 503 meanwhile, 200 after, nothing answered 200 is missing on disk', async (t: TestContext) => {
  const ok = (o: readonly Outcome[], since = 0): Outcome[] => o.filter((x) => x.status === 200 && x.at >= since);
  const target = join(ns(), 'ft');
  const moved = join(ns(), 'ft-moved');
  const traffic = startTraffic((id) => cwm.post('/webhook/ft', { id }), { concurrency: 4, prefix: 'df' });
  try {
    await waitFor(() => ok(traffic.outcomes).length >= 100, 15_000, '100 acknowledged');
    renameSync(target, moved);
    writeFileSync(target, 'not a directory');
    const downAt = Date.now();
    await waitFor(() => traffic.outcomes.filter((o) => o.status === 503 && o.at >= downAt).length >= 30, 15_000, '503s while the directory is gone');
    rmSync(target);
    const upAt = Date.now();
    await waitFor(() => ok(traffic.outcomes, upAt).length >= 100, 15_000, '200s once it is back');
  } finally {
    await traffic.stop();
  }
  const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'only 200 and 503');
  const onDisk = new Set([...idsIn(target), ...idsIn(moved)]);
  const acked = ok(traffic.outcomes);
  const lost = acked.filter((o) => !onDisk.has(o.id));
  assert.deepEqual(lost.map((o) => o.id), [], 'acknowledged then missing on disk');
  const leftovers = readdirSync(target).filter((f) => f.endsWith('.tmp'));
  assert.deepEqual(leftovers, [], 'no temp file left in the live directory');
  t.diagnostic(`save_to_disk directory removed: sent=${traffic.outcomes.length} 2xx=${acked.length} 503=${traffic.outcomes.filter((o) => o.status === 503).length} lost=${lost.length}`);
});
