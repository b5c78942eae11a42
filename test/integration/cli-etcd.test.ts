import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

let etcd: EtcdCluster;
let dir: string;
let env: Record<string, string>;

const write = (name: string, content: unknown): string => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

/** Every key under a prefix, as etcdctl sees it. */
async function keys(prefix: string): Promise<string[]> {
  return (await etcd.ctl('get', '--prefix', '--keys-only', prefix)).split('\n').filter((l) => l.length > 0);
}

before(async () => {
  etcd = await startEtcd(1);
  dir = tempDir('cwm-cli-etcd-');
  env = { ETCD_ENDPOINTS: etcd.endpoints.join(',') };
});
after(async () => {
  await etcd.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('put writes a valid webhook where the receiver reads it', async () => {
  const r = await runCli(['put', 'ns_alpha/hook1', write('hook1.json', { module: 'log' })], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/cwm\/ns_alpha\/webhooks\/hook1 written \(revision \d+\)/);
  assert.deepEqual(JSON.parse(await etcd.ctl('get', '--print-value-only', '/cwm/ns_alpha/webhooks/hook1')), { module: 'log' });
});

test('put never writes an invalid config', async () => {
  const r = await runCli(['put', 'ns_alpha/broken', '-'], { env, input: '{"module":"log","rate_limit":{"max_requests":0}}' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/rate_limit\/max_requests must be >= 1/);
  assert.match(r.stderr, /nothing written/);
  assert.deepEqual(await keys('/cwm/ns_alpha/webhooks/broken'), []);
  const notJson = await runCli(['put', 'ns_alpha/broken', '-'], { env, input: 'not json' });
  assert.equal(notJson.code, 1);
  assert.deepEqual(await keys('/cwm/ns_alpha/webhooks/broken'), []);
});

test('put checks the target name and writes connections with --connection', async () => {
  for (const target of ['ns_alpha', 'a/b/c', 'ns alpha/x', 'ns/../x']) {
    const r = await runCli(['put', target, '-'], { env, input: '{"module":"log"}' });
    assert.equal(r.code, 2, target);
  }
  const c = await runCli(['put', '--connection', 'redis_main', '-'], { env, input: '{"type":"redis","url":"redis://127.0.0.1:6379"}' });
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(await keys('/cwm/global/connections/'), ['/cwm/global/connections/redis_main']);
});

test('names such as __proto__ and constructor work end to end', async () => {
  assert.equal((await runCli(['put', '__proto__/constructor', '-'], { env, input: '{"module":"log"}' })).code, 0);
  const list = await runCli(['list', '__proto__'], { env });
  assert.equal(list.stdout, '__proto__/constructor\n');
  const exported = await runCli(['export'], { env });
  assert.equal(exported.code, 0, exported.stderr);
  const doc = JSON.parse(exported.stdout) as { webhooks: Record<string, Record<string, unknown>> };
  assert.ok(Object.hasOwn(doc.webhooks, '__proto__'));
  assert.deepEqual(Object.keys(doc.webhooks['__proto__'] as object), ['constructor']);
});

test('import validates everything first and writes nothing if anything is invalid', async () => {
  const bad = join(dir, 'bad');
  write('bad/webhooks.json', { good: { module: 'log' }, bad: { module: 'log', ip_whitelist: [] }, 'bad name': { module: 'log' } });
  write('bad/connections.json', { k: { type: 'kafka', bootstrap_servers: 'k1:9092' } });
  const r = await runCli(['import', '--dir', bad, '--namespace', 'imported', '--prefix', '/imp/'], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /webhooks\.json#bad: invalid\n {2}\/ip_whitelist must NOT have fewer than 1 items/);
  assert.match(r.stderr, /webhooks\.json#bad name: invalid/);
  assert.match(r.stderr, /2 invalid entries; nothing written/);
  assert.deepEqual(await keys('/imp/'), []);
  const notJson = join(dir, 'notjson');
  write('notjson/webhooks.json', '{');
  const r2 = await runCli(['import', '--dir', notJson, '--prefix', '/imp/'], { env });
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /not valid JSON/);
  assert.deepEqual(await keys('/imp/'), []);
});

test('import moves a file-backend folder into etcd (more keys than one transaction holds), export/list read it back', async () => {
  const hooks: Record<string, unknown> = {};
  for (let i = 0; i < 250; i++) hooks[`hook${String(i).padStart(3, '0')}`] = { module: 'log', 'module-config': { pretty_print: i % 2 === 0 } };
  write('good/webhooks.json', hooks);
  write('good/connections.json', { kafka_main: { type: 'kafka', bootstrap_servers: 'k1:9092,k2:9092' } });
  const dry = await runCli(['import', '--dir', join(dir, 'good'), '--namespace', 'team_a', '--prefix', '/imp/', '--dry-run'], { env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run: 251 entries valid; nothing written/);
  assert.deepEqual(await keys('/imp/'), []);

  const r = await runCli(['import', '--dir', join(dir, 'good'), '--namespace', 'team_a', '--prefix', '/imp/'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported 250 webhook\(s\) and 1 connection\(s\)/);
  assert.equal((await keys('/imp/team_a/webhooks/')).length, 250);

  const list = await runCli(['list', '--prefix', '/imp/'], { env });
  assert.equal(list.stdout.split('\n').filter(Boolean).length, 250);
  assert.match(list.stdout, /^team_a\/hook000\n/);
  assert.equal((await runCli(['list', '--connections', '--prefix', '/imp/'], { env })).stdout, 'kafka_main\n');

  // Flat export of one namespace is CWM's webhooks.json: byte-for-byte the same configs.
  const flat = await runCli(['export', 'team_a', '--prefix', '/imp/'], { env });
  assert.deepEqual(JSON.parse(flat.stdout), hooks);

  // Full export → import --file under another prefix → identical export.
  const full = await runCli(['export', '--prefix', '/imp/'], { env });
  const backup = write('backup.json', full.stdout);
  const restore = await runCli(['import', '--file', backup, '--prefix', '/restored/'], { env });
  assert.equal(restore.code, 0, restore.stderr);
  const again = await runCli(['export', '--prefix', '/restored/'], { env });
  assert.deepEqual(JSON.parse(again.stdout), JSON.parse(full.stdout));
});

test('export skips values that are not JSON, says so, and exits 1', async () => {
  await etcd.ctl('put', '/bad/ns/webhooks/ok', '{"module":"log"}');
  await etcd.ctl('put', '/bad/ns/webhooks/garbage', '{{{');
  const r = await runCli(['export', '--prefix', '/bad/'], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/bad\/ns\/webhooks\/garbage: value is not JSON; skipped/);
  assert.deepEqual(JSON.parse(r.stdout), { connections: {}, webhooks: { ns: { ok: { module: 'log' } } } });
});

test('unreachable etcd: exit 3 within the timeout, naming the endpoints', async () => {
  const closedPort = await freePort();
  const refused = await runCli(['list', '--endpoints', `127.0.0.1:${closedPort}`], { env });
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, new RegExp(`etcd at http://127\\.0\\.0\\.1:${closedPort} unreachable`));
  // A peer that accepts TCP but never answers: only the deadline ends it.
  const silent: Server = createServer(() => undefined);
  const silentPort = await freePort();
  await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
  try {
    const r = await runCli(['put', 'ns/x', '-', '--timeout-ms', '1000'], { env: { ETCD_ENDPOINTS: `127.0.0.1:${silentPort}` }, input: '{"module":"log"}' });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no answer within 1000 ms/);
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
  } finally {
    silent.close();
  }
  // HA endpoints: one member down, the command still succeeds through the other (tried in random order).
  for (let i = 0; i < 3; i++) {
    const ha = await runCli(['list', '--endpoints', `127.0.0.1:${closedPort},${etcd.endpoints[0]}`], { env });
    assert.equal(ha.code, 0, ha.stderr);
  }
  const badFlag = await runCli(['list', '--timeout-ms', 'soon'], { env });
  assert.equal(badFlag.code, 2);
});
