/**
 * CWM's chain forms and delivery fields against a running cwm: bare module
 * names in `chain`, `chain-config.continue_on_error` (later entries still run;
 * the answer stays 503 when one failed), `retry` without a spool and a chain
 * entry's own `retry` (attempted again in process, inside the deadline), and
 * `credential_cleanup` of what outputs receive.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { waitForLog } from '../helpers/cwm-http.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { freePort } from '../helpers/ports.js';

/** A webhook target that answers 500 to the first `failures` requests of each path, then 200; counts what it got. */
let target: Server;
let targetPort = 0;
const seen = new Map<string, number>();
const FAILURES = 2;

let dir: ConfigDir;
let cwm: CwmProcess;

const lines = (deliveryId: string) => cwm.logs.filter((l) => l.msg === 'webhook received' && l.delivery_id === deliveryId);

before(async () => {
  target = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      res.writeHead(n <= FAILURES ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as AddressInfo).port;
  const deadRedis = `redis://127.0.0.1:${await freePort()}`;
  const fast = { initial_delay: 0.05, max_delay: 0.2 };
  dir = configDirWith(
    {
      bare: { chain: ['log'] },
      go_on: { chain: [{ module: 'redis_queue', connection: 'dead' }, 'log'], 'chain-config': { continue_on_error: true } },
      stop: { chain: [{ module: 'redis_queue', connection: 'dead' }, 'log'], 'chain-config': { continue_on_error: false } },
      entry_retry: { chain: [{ module: 'http_webhook', 'module-config': { url: `http://127.0.0.1:${targetPort}/entry` }, retry: { enabled: true, max_attempts: 3, ...fast } }] },
      entry_retry_short: { chain: [{ module: 'http_webhook', 'module-config': { url: `http://127.0.0.1:${targetPort}/short` }, retry: { enabled: true, max_attempts: 2, ...fast } }] },
      hook_retry: { module: 'http_webhook', 'module-config': { url: `http://127.0.0.1:${targetPort}/hook` }, retry: { enabled: true, max_attempts: 3, ...fast } },
      cleanup: { module: 'log', credential_cleanup: { enabled: true, fields: ['ssn'] } },
      cleanup_remove: { module: 'log', credential_cleanup: { mode: 'remove' } },
    },
    { dead: { type: 'redis', url: deadRedis } },
  );
  cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path, ALLOW_LOCALHOST_FOR_TESTS: 'true', OUTPUT_TIMEOUT_MS: '3000' });
});

after(async () => {
  if (cwm) assert.equal(await cwm.stop(), 0);
  dir?.remove();
  await new Promise<void>((resolve) => target.close(() => resolve()));
});

async function deliveryId(res: Response): Promise<string> {
  return ((await res.json()) as { delivery_id: string }).delivery_id;
}

test('a chain written as bare module names delivers', async () => {
  const r = await cwm.post('/webhook/bare', { a: 1 }, { 'x-github-delivery': 'bare-1' });
  assert.equal(r.status, 200);
  await waitForLog(cwm, 'webhook received', { delivery_id: 'bare-1' });
});

test('continue_on_error: the later entry still runs, the answer is still 503; without it, the chain stops', async () => {
  const on = await cwm.post('/webhook/go_on', { a: 1 }, { 'x-github-delivery': 'go-on-1' });
  assert.equal(on.status, 503, 'one entry failed: no 2xx');
  await waitForLog(cwm, 'webhook received', { delivery_id: 'go-on-1' });
  const off = await cwm.post('/webhook/stop', { a: 1 }, { 'x-github-delivery': 'stop-1' });
  assert.equal(off.status, 503);
  // A later delivery's line arriving proves every earlier line has been read from cwm's stdout.
  assert.equal((await cwm.post('/webhook/bare', { a: 1 }, { 'x-github-delivery': 'marker-1' })).status, 200);
  await waitForLog(cwm, 'webhook received', { delivery_id: 'marker-1' });
  assert.equal(lines('stop-1').length, 0, 'the chain stopped at the failed entry');
});

test("a chain entry's retry and the webhook's retry (no spool) attempt again in process, inside the deadline", async () => {
  assert.equal((await cwm.post('/webhook/entry_retry', { a: 1 })).status, 200, 'third attempt succeeded');
  assert.equal(seen.get('/entry'), 3);
  assert.equal((await cwm.post('/webhook/hook_retry', { a: 1 })).status, 200);
  assert.equal(seen.get('/hook'), 3);
  const short = await cwm.post('/webhook/entry_retry_short', { a: 1 });
  assert.equal(short.status, 503, 'two attempts were not enough');
  assert.equal(seen.get('/short'), 2);
});

test('credential_cleanup masks (or removes) credential keys in the payload and headers outputs get', async () => {
  const payload = { user: 'u', session_id: 's-123', monkey: 'banana', ssn: '078-05-1120', nested: { refresh_token: 'r-456', ok: 1 } };
  const id = await deliveryId(await cwm.post('/webhook/cleanup', payload, { 'x-session-token': 'h-789' }));
  const line = await waitForLog(cwm, 'webhook received', { delivery_id: id });
  assert.deepEqual(line.payload, { user: 'u', session_id: '***REDACTED***', monkey: '***REDACTED***', ssn: '***REDACTED***', nested: { refresh_token: '***REDACTED***', ok: 1 } });
  assert.equal((line.webhook_headers as Record<string, string>)['x-session-token'] !== 'h-789', true);
  const removedId = await deliveryId(await cwm.post('/webhook/cleanup_remove', payload));
  const removed = await waitForLog(cwm, 'webhook received', { delivery_id: removedId });
  assert.deepEqual(removed.payload, { user: 'u', ssn: '078-05-1120', nested: { ok: 1 } });
  assert.doesNotMatch(JSON.stringify(cwm.logs), /s-123|r-456|h-789/);
});
