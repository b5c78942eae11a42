/**
 * Hostile HTTP against a real cwm process: garbage, huge and deep bodies,
 * invalid UTF-8, huge and repeated headers, traversal and unicode in the
 * path, prototype keys in payloads, every method. Each answer follows
 * DESIGN §3 with a JSON body, and the process stays healthy throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { configDirWith } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';

let cwm: CwmProcess;

before(async () => {
  // Written as JSON text: in an object literal `__proto__:` would set the prototype instead of a key.
  const dir = configDirWith(
    '{"open": {"module": "log"}, "__proto__": {"module": "log"}, "constructor": {"module": "log"}, "toString": {"module": "log"},' +
      ' "typed": {"module": "log", "json_schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}}',
  );
  cwm = await startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'hostile', MAX_BODY_BYTES: String(256 * 1024) });
});

after(async () => {
  assert.equal(await cwm.stop(), 0, 'clean exit after the whole suite');
});

async function healthy(): Promise<void> {
  assert.equal(cwm.proc.exitCode, null, 'process still running');
  assert.equal((await fetch(`${cwm.baseUrl}/health`)).status, 200);
}

function jsonError(r: RawResponse, status: number): void {
  assert.equal(r.status, status, r.body);
  assert.equal((JSON.parse(r.body) as { status: string }).status, 'error');
}

const post = (path: string, body: string | Buffer, extra = '') =>
  rawRequest(cwm.port, Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`), Buffer.from(body)]));

test('garbage bodies → 400; the process stays healthy', async () => {
  // A leading control byte keeps random garbage from ever being valid JSON (a lone random digit would be).
  for (let i = 0; i < 20; i++) jsonError(await post('/webhook/open', Buffer.concat([Buffer.from([0x01]), randomBytes(i * 37)])), 400);
  for (const body of ['', ' ', 'null x', '{"a":1}}', '{"a":1,}', "{'a':1}", 'NaN', '\u0000']) jsonError(await post('/webhook/open', body), 400);
  await healthy();
});

/**
 * Streams a chunked body of at most `limit` bytes, then holds the socket open
 * without ending the body, and resolves the server's status line. The bound
 * is on what the server was given, not on how fast this client notices the
 * answer (counting the bytes a client managed to write before it read the
 * answer made the test depend on scheduling): a server that needs more than
 * `limit` bytes to answer never answers, and the test fails on its deadline.
 */
function boundedChunkedPost(port: number, path: string, limit: number, deadlineMs = 15_000): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunk = Buffer.concat([Buffer.from(`10000\r\n`), Buffer.alloc(0x10000, 0x20), Buffer.from('\r\n')]);
    let sent = 0;
    let answer = '';
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no answer after ${sent} bytes`));
    }, deadlineMs);
    const pump = (): void => {
      while (!done && sent < limit && socket.writable && socket.write(chunk)) sent += 0x10000;
    };
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      pump();
    });
    socket.on('drain', pump);
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ status: Number(m[1]), sent });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!done) {
        clearTimeout(timer);
        reject(new Error(`closed without an answer after ${sent} bytes`));
      }
    });
  });
}

test('huge bodies → 413, declared or streamed, without buffering them', async () => {
  jsonError(await rawRequest(cwm.port, `POST /webhook/open HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{`), 413);
  jsonError(await rawRequest(cwm.port, `POST /webhook/open HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${3 * 1024 * 1024}\r\n\r\n${' '.repeat(1024)}`), 413);
  // A chunked body that never ends is cut off once past MAX_BODY_BYTES (256 KiB here): given at most 1 MiB, cwm answers 413.
  const streamed = await boundedChunkedPost(cwm.port, '/webhook/open', 1024 * 1024);
  assert.equal(streamed.status, 413);
  await healthy();
});

test('deep JSON and invalid UTF-8 → 400', async () => {
  jsonError(await post('/webhook/open', '['.repeat(200_000)), 400);
  jsonError(await post('/webhook/open', `${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}`), 400);
  for (const bytes of [[0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff]]) {
    jsonError(await post('/webhook/open', Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')])), 400);
  }
  assert.equal((await post('/webhook/open', '{"a":"caf\u00e9 \ud83d\ude00"}')).status, 200, 'valid multi-byte UTF-8 passes');
  await healthy();
});

test('huge headers → 431 JSON; many repeated headers are answered normally', async () => {
  jsonError(await rawRequest(cwm.port, `POST /webhook/open HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`), 431);
  const repeated = Array.from({ length: 300 }, (_, i) => `X-GitHub-Delivery: id-${i}\r\nX-Forwarded-For: 10.0.0.${i % 250}\r\n`).join('');
  const r = await post('/webhook/open', '{}', repeated);
  assert.equal(r.status, 200, r.body);
  await healthy();
});

test('path traversal, percent-encoding and unicode in namespace/id → 400 or 404, never a file or a crash', async () => {
  const paths = [
    '/webhook/../admin', '/webhook/..', '/webhook/hostile/..', '/webhook/%2e%2e/open', '/webhook/hostile%2Fopen', '/webhook/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/webhook/caf%C3%A9', '/webhook/hostile/%00', '/webhook/hostile/open%20', '/webhook/%F0%9F%98%80', '/webhook/hostile/open;x', `/webhook/${'a'.repeat(65)}`,
    '/webhook/hostile/open/extra', '/webhook//open', '/webhook/../../etc/passwd', '/webhook/hostile/.%2e',
  ];
  for (const path of paths) {
    const r = await post(path, '{}');
    assert.ok(r.status === 400 || r.status === 404, `${path} → ${r.status}`);
    assert.equal((JSON.parse(r.body) as { status: string }).status, 'error');
  }
  // Raw UTF-8 bytes on the request line.
  const raw = await rawRequest(cwm.port, Buffer.concat([Buffer.from('POST /webhook/'), Buffer.from('café😀', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}')]));
  assert.equal(raw.status, 400, raw.body);
  await healthy();
});

test('__proto__, constructor and toString work as ids and as payload keys without pollution', async () => {
  for (const id of ['__proto__', 'constructor', 'toString']) {
    assert.equal((await post(`/webhook/${id}`, '{}')).status, 200, id);
    assert.equal((await post(`/webhook/${id}/open`, '{}')).status, 404, `${id} as an unknown namespace`);
  }
  const nasty = '{"__proto__":{"polluted":true,"n":"x"},"constructor":{"prototype":{"polluted":true}},"toString":1}';
  assert.equal((await post('/webhook/open', nasty)).status, 200);
  assert.equal((await post('/webhook/typed', nasty)).status, 200, 'schema sees own keys, not an inherited "n"');
  assert.equal((await post('/webhook/typed', '{"n":"x"}')).status, 422);
  // Log lines arrive on the child's stdout a moment after the answer.
  await waitFor(() => cwm.logs.some((l) => l.msg === 'webhook received' && typeof l.payload === 'object' && l.payload !== null && Object.hasOwn(l.payload, 'constructor') && (l.payload as { toString?: unknown }).toString === 1), 5000, 'the payload delivered with its "constructor" and "toString" keys as plain data');
  await healthy();
});

test('every method other than POST → 405 (HEAD without a body)', async () => {
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND']) {
    const r = await rawRequest(cwm.port, `${method} /webhook/open HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
    jsonError(r, 405);
    assert.equal(r.headers.get('allow'), 'POST');
  }
  // A method node's parser does not know is refused before routing, still with JSON.
  jsonError(await rawRequest(cwm.port, 'FOO /webhook/open HTTP/1.1\r\nHost: x\r\n\r\n'), 400);
  const head = await rawRequest(cwm.port, 'HEAD /webhook/open HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(head.status, 405);
  await healthy();
});

test('broken HTTP framing → 400 JSON from the parser layer', async () => {
  for (const req of ['POST /webhook/open HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 'POST /webhook/open HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'GARBAGE\r\n\r\n', 'POST /webhook/open HTTP/1.1\r\nBad Header\r\n\r\n']) {
    jsonError(await rawRequest(cwm.port, req), 400);
  }
  await healthy();
});
