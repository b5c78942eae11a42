/**
 * CWM's WEBHOOKS_CONFIG_FILE / CONNECTIONS_CONFIG_FILE on the file backend:
 * the named files are served (never the bundled example), edits reload, and a
 * named path that cannot be read stops the process before it listens, with a
 * message naming the setting.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
let redis: RedisServer;
let cwm: CwmProcess;
let webhooksFile: string;

function writeJson(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
}

before(async () => {
  root = tempDir('cwm-cfgfiles-');
  redis = await startRedis();
  // Two different folders, as a CWM deployment may mount them.
  mkdirSync(join(root, 'hooks'));
  mkdirSync(join(root, 'conns'));
  webhooksFile = join(root, 'hooks', 'my-webhooks.json');
  writeJson(webhooksFile, { mine: { module: 'log' }, published: { module: 'redis_publish', connection: 'bus', 'module-config': { channel: 'c' } } });
  writeJson(join(root, 'conns', 'my-connections.json'), { bus: { type: 'redis', url: redis.url } });
  cwm = await startCwm({ CONFIG_BACKEND: 'file', WEBHOOKS_CONFIG_FILE: webhooksFile, CONNECTIONS_CONFIG_FILE: join(root, 'conns', 'my-connections.json') });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await redis.destroy();
});

test('serves the webhooks of WEBHOOKS_CONFIG_FILE with the connections of CONNECTIONS_CONFIG_FILE, not the bundled example', async () => {
  assert.equal((await cwm.post('/webhook/mine', { a: 1 })).status, 200);
  // A 200 from redis_publish means the connection was found in CONNECTIONS_CONFIG_FILE (a missing one answers 503).
  assert.equal((await cwm.post('/webhook/published', { a: 1 })).status, 200);
  assert.equal((await cwm.post('/webhook/demo', { a: 1 })).status, 404, "the bundled example's open demo webhook is not served");
});

test('an edit of WEBHOOKS_CONFIG_FILE (outside any CONFIG_DIR) is reloaded', async () => {
  writeJson(webhooksFile, { mine: { module: 'log' }, added: { module: 'log' } });
  await waitFor(async () => (await cwm.post('/webhook/added', {})).status === 200, 5000, 'added webhook served');
  assert.equal((await cwm.post('/webhook/published', {})).status, 404);
});

const serve = (env: Record<string, string>) => runCli(['serve'], { env: { HOST: '127.0.0.1', PORT: '0', CONFIG_BACKEND: 'file', ...env } });

test('a missing WEBHOOKS_CONFIG_FILE refuses to start, naming the setting', async () => {
  const r = await serve({ WEBHOOKS_CONFIG_FILE: join(root, 'nope.json') });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /nope\.json \(WEBHOOKS_CONFIG_FILE\) cannot be read: no such file/);
  assert.doesNotMatch(r.stdout, /cwm listening/);
});

test('a missing CONNECTIONS_CONFIG_FILE refuses to start, naming the setting', async () => {
  const r = await serve({ WEBHOOKS_CONFIG_FILE: webhooksFile, CONNECTIONS_CONFIG_FILE: join(root, 'conns', 'absent.json') });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /absent\.json \(CONNECTIONS_CONFIG_FILE\) cannot be read: no such file/);
});

test('a CONFIG_DIR without webhooks.json, or a folder given as a file, refuses to start', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const r = await serve({ CONFIG_DIR: empty });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /webhooks\.json \(CONFIG_DIR\) cannot be read: no such file/);
  const folder = await serve({ WEBHOOKS_CONFIG_FILE: empty });
  assert.notEqual(folder.code, 0);
  assert.match(folder.stderr, /\(WEBHOOKS_CONFIG_FILE\) cannot be read: is a folder/);
});

test('only WEBHOOKS_CONFIG_FILE: connections.json is optional next to it, and read from there', async () => {
  const dir = join(root, 'alone');
  mkdirSync(dir);
  writeJson(join(dir, 'webhooks.json'), { published: { module: 'redis_publish', connection: 'bus', 'module-config': { channel: 'c' } } });
  writeJson(join(dir, 'connections.json'), { bus: { type: 'redis', url: redis.url } });
  const alone = await startCwm({ CONFIG_BACKEND: 'file', WEBHOOKS_CONFIG_FILE: join(dir, 'webhooks.json') });
  try {
    assert.equal((await alone.post('/webhook/published', {})).status, 200);
  } finally {
    assert.equal(await alone.stop(), 0);
  }
});
