/**
 * CWM's `GET /` and `GET /stats` against real cwm processes: the root answer,
 * /stats off without STATS_AUTH_TOKEN, its token check, and the counts CWM
 * reports (accepted requests only, per webhook, both routes on one key).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';

const TOKEN = 'stats-token-0123';
let dir: ConfigDir;
let withStats: CwmProcess;
let without: CwmProcess;

before(async () => {
  // JSON text, so that `__proto__` is an ordinary webhook id.
  dir = configDirWith('{"__proto__":{"module":"log"},"a":{"module":"log"},"guarded":{"module":"log","authorization":"Bearer hook-secret-xyz"},"schema":{"module":"log","json_schema":{"type":"object","required":["id"]}}}');
  [withStats, without] = await Promise.all([
    startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'team', STATS_AUTH_TOKEN: TOKEN }),
    startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'team' }),
  ]);
});

after(async () => {
  assert.equal(await withStats.stop(), 0);
  assert.equal(await without.stop(), 0);
  dir.remove();
});

const stats = (c: CwmProcess, authorization?: string): Promise<Response> => fetch(`${c.baseUrl}/stats`, { headers: authorization === undefined ? {} : { authorization } });

test('GET / answers CWM\'s {"message":"200 OK"}', async () => {
  for (const c of [withStats, without]) {
    const res = await fetch(`${c.baseUrl}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { message: '200 OK' });
  }
});

test('GET /stats is off (404) without STATS_AUTH_TOKEN', async () => {
  const res = await stats(without, `Bearer ${TOKEN}`);
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { status: 'error', error: 'not found' });
});

test('GET /stats needs the token: missing or wrong is 401, Bearer or bare token is 200', async () => {
  for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN.slice(0, -1), '']) {
    const res = await stats(withStats, auth);
    assert.equal(res.status, 401, String(auth));
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await res.json(), { status: 'error', error: 'stats token required' });
  }
  assert.equal((await stats(withStats, `Bearer ${TOKEN}`)).status, 200);
  assert.equal((await stats(withStats, TOKEN)).status, 200);
});

test('counts accepted requests per webhook in CWM\'s windows; refused ones are not counted; no secrets', async () => {
  for (const path of ['/webhook/a', '/webhook/a', '/webhook/team/a', '/webhook/__proto__']) assert.equal((await withStats.post(path, { id: 1 })).status, 200, path);
  assert.equal((await withStats.post('/webhook/guarded', {})).status, 401);
  assert.equal((await withStats.post('/webhook/guarded', {}, { authorization: 'Bearer hook-secret-xyz' })).status, 200);
  assert.equal((await withStats.post('/webhook/schema', {})).status, 422);
  assert.equal((await withStats.post('/webhook/nope', {})).status, 404);
  const res = await stats(withStats, `Bearer ${TOKEN}`);
  const text = await res.text();
  assert.doesNotMatch(text, /hook-secret-xyz|stats-token/);
  const body = JSON.parse(text) as Record<string, Record<string, number>>;
  assert.deepEqual(Object.keys(body), ['__proto__', 'a', 'guarded']);
  const a = body.a as Record<string, number>;
  assert.deepEqual(Object.keys(a), ['total', 'minute', '5_minutes', '15_minutes', '30_minutes', 'hour', 'day', 'week', 'month']);
  // Every window but `minute` spans at least the last four minutes, so it holds all three; `minute` may have just rolled over.
  for (const w of ['total', '5_minutes', '15_minutes', '30_minutes', 'hour', 'day', 'week', 'month']) assert.equal(a[w], 3, w);
  assert.ok((a.minute ?? -1) >= 0 && (a.minute ?? 4) <= 3);
  assert.equal(body.guarded?.total, 1);
  assert.equal(body.__proto__?.total, 1);
});
