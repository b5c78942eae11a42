/**
 * What a json webhook takes as its body, against a real cwm: JSON with or
 * without a Content-Type (CWM's docs send it without), and a declared type
 * that is neither JSON nor a form still answered 415.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { rawRequest } from '../helpers/raw-http.js';

let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  dir = configDirWith({
    open: { module: 'log' },
    schema: { module: 'log', json_schema: { type: 'object', required: ['order_id'], properties: { order_id: { type: 'integer' } } } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'fmt' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  dir.remove();
});

/** A POST with exactly these header lines (no Content-Type unless given). */
function post(path: string, body: string, headerLines: string[] = []): ReturnType<typeof rawRequest> {
  const head = [`POST ${path} HTTP/1.1`, 'Host: x', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...headerLines].join('\r\n');
  return rawRequest(cwm.port, `${head}\r\n\r\n${body}`);
}

/** The payload the log output wrote for this delivery. */
async function loggedPayload(deliveryId: string): Promise<unknown> {
  const line = await waitFor(() => cwm.logs.find((l) => l.msg === 'webhook received' && l.delivery_id === deliveryId), 5000, `log line of ${deliveryId}`);
  return line.payload;
}

test('JSON without a Content-Type is accepted and parsed, as CWM (which ignored the type)', async () => {
  const res = await post('/webhook/open', '{"event":"push","n":1}');
  assert.equal(res.status, 200, res.body);
  const { delivery_id } = JSON.parse(res.body) as { delivery_id: string };
  assert.deepEqual(await loggedPayload(delivery_id), { event: 'push', n: 1 });
  // An empty header is no declaration either.
  assert.equal((await post('/webhook/open', '{}', ['Content-Type: '])).status, 200);
});

test('without a Content-Type the body must still be JSON, and json_schema still applies', async () => {
  const bad = await post('/webhook/open', 'event=push');
  assert.equal(bad.status, 400);
  assert.equal((JSON.parse(bad.body) as { error: string }).error, 'body is not valid JSON');
  assert.equal((await post('/webhook/schema', '{"order_id":"x"}')).status, 422);
  assert.equal((await post('/webhook/schema', '{"order_id":7}')).status, 200);
});

test('a declared type that is not JSON still gets 415', async () => {
  for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx']) {
    const res = await post('/webhook/open', '{}', [`Content-Type: ${type}`]);
    assert.equal(res.status, 415, type);
    assert.equal((JSON.parse(res.body) as { status: string }).status, 'error');
  }
  assert.equal((await post('/webhook/open', '{}', ['Content-Type: application/json; charset=utf-8'])).status, 200);
});
