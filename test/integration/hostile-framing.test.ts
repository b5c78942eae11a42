/**
 * Hostile senders at the framing level (issue 14): bodies sent after an early
 * 401 are drained only a bounded amount, 100-continue comes only after the
 * header checks, pipelined garbage does not spoil the valid request before it,
 * an in-flight request at SIGTERM is told `Connection: close`, and C1 control
 * bytes in headers are escaped in log lines. Real cwm process, raw sockets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

let dir: ConfigDir;
let cwm: CwmProcess;
let rawStdout = '';

before(async () => {
  dir = configDirWith({
    guarded: { module: 'log', authorization: 'Bearer {$CWM_FRAMING_TOKEN}' },
    open: { module: 'log', 'module-config': { include_headers: true } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'frm', CWM_FRAMING_TOKEN: 'framing-token-1' });
  cwm.proc.stdout?.on('data', (d: Buffer) => (rawStdout += d.toString('latin1')));
});

after(async () => {
  if (cwm.proc.exitCode === null) await cwm.stop();
  dir.remove();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${cwm.baseUrl}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(cwm.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads everything the server sends until it closes (or the deadline passes). */
function collect(s: Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(text);
    }, timeoutMs);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => s.destroy());
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

test('unauthenticated chunked upload: the server reads ≤ 1 MiB after the 401, then closes', async (t) => {
  const before = await metric('cwm_http_discarded_body_bytes_total');
  const s = await open();
  const answer = collect(s, 20_000);
  s.write('POST /webhook/frm/guarded HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  let written = 0;
  let closed = false;
  s.on('close', () => (closed = true));
  const started = Date.now();
  // Write as fast as the kernel takes it until the server closes; written counts bytes handed to the kernel.
  while (!closed && Date.now() - started < 20_000) {
    const ok = s.write(framed, (err) => {
      if (!err) written += framed.length;
    });
    if (!ok) await new Promise<void>((r) => {
      const done = (): void => r();
      s.once('drain', done);
      s.once('close', done);
    });
  }
  const text = await answer;
  const discarded = (await metric('cwm_http_discarded_body_bytes_total')) - before;
  t.diagnostic(`client wrote ${(written / 1024).toFixed(0)} KiB before the server closed (includes loopback socket buffers); cwm_http_discarded_body_bytes_total +${discarded} bytes; closed after ${Date.now() - started} ms`);
  assert.ok(closed, 'server closed the socket');
  assert.match(text, /^HTTP\/1\.1 401 /);
  assert.match(text, /connection: close/i);
  assert.ok(discarded <= 1024 * 1024, `server read ${discarded} bytes after the 401`);
  // Kernel buffers on loopback hold a few MiB; far from the unbounded upload it would be without the drain limit.
  assert.ok(written <= 32 * 1024 * 1024, `client could write ${written} bytes`);
});

test('Expect: 100-continue with wrong credentials → 401 and no 100 Continue', async (t) => {
  for (const auth of ['', 'Authorization: Bearer wrong\r\n']) {
    const s = await open();
    const answer = collect(s, 10_000);
    s.write(`POST /webhook/frm/guarded HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n${auth}Expect: 100-continue\r\n\r\n`);
    const first = await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString('latin1'))));
    s.end('{}');
    const text = first + (await answer);
    t.diagnostic(`first line: ${first.split('\r\n')[0]}`);
    assert.match(first, /^HTTP\/1\.1 401 /);
    assert.ok(!text.includes('100 Continue'), text);
  }
  // With the right credentials the 100 Continue comes, then 200.
  const s = await open();
  const answer = collect(s, 10_000);
  s.write('POST /webhook/frm/guarded HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nAuthorization: Bearer framing-token-1\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
  const first = await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString('latin1'))));
  assert.match(first, /^HTTP\/1\.1 100 Continue/);
  s.write('{}');
  const rest = first + (await answer);
  assert.match(rest, /HTTP\/1\.1 200 /);
});

test('a valid request followed by garbage in the same write: 200 and delivered, then 400', async (t) => {
  const marker = 'pipelined-valid-8812';
  const body = JSON.stringify({ m: marker });
  const s = await open();
  const answer = collect(s, 10_000);
  s.end(`POST /webhook/frm/open HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}GARBAGE \x01\x02 NOT HTTP\r\n\r\n`);
  const text = await answer;
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  t.diagnostic(`statuses on the socket: ${statuses.join(', ')}`);
  assert.deepEqual(statuses, ['200', '400']);
  await waitFor(() => cwm.logs.some((l) => l.msg === 'webhook received' && JSON.stringify(l).includes(marker)), 5000, 'delivery');
});

test('header bytes 0x80–0x9F are escaped in the log line (no raw C1 characters)', async (t) => {
  const marker = 'c1-marker-3391';
  const body = JSON.stringify({ m: marker });
  const s = await open();
  const answer = collect(s, 10_000);
  const head = Buffer.concat([
    Buffer.from(`POST /webhook/frm/open HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${body.length}\r\nX-C1: a`),
    Buffer.from([0x85, 0x9b, 0x80, 0x9f]),
    Buffer.from(`b\r\n\r\n${body}`),
  ]);
  s.end(head);
  assert.match(await answer, /^HTTP\/1\.1 200 /);
  await waitFor(() => rawStdout.split('\n').find((l) => l.includes(marker)), 5000, 'log line');
  const line = rawStdout.split('\n').find((l) => l.includes(marker)) ?? '';
  const bytes = Buffer.from(line, 'latin1');
  // UTF-8 of U+0080–U+009F is C2 80–C2 9F.
  let rawC1 = 0;
  for (let i = 0; i + 1 < bytes.length; i++) {
    const next = bytes[i + 1] ?? 0;
    if (bytes[i] === 0xc2 && next >= 0x80 && next <= 0x9f) rawC1++;
  }
  const excerpt = /"x-c1":"[^"]*"/.exec(line)?.[0];
  t.diagnostic(`logged header: ${excerpt}; raw C1 sequences in the line: ${rawC1}`);
  assert.equal(rawC1, 0);
  assert.ok(excerpt?.includes('\\u0085') && excerpt.includes('\\u009f'), `escaped in the log: ${excerpt}`);
});

test('a request in flight at SIGTERM is answered with Connection: close', async (t) => {
  const body = JSON.stringify({ m: 'in-flight-at-sigterm' });
  const s = await open();
  const answer = collect(s, 15_000);
  // Headers and half the body: the request is in flight when the signal lands.
  s.write(`POST /webhook/frm/open HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
  await waitFor(async () => (await metric('cwm_requests_in_flight')) >= 1, 5000, 'request in flight');
  const exit = cwm.stop();
  await new Promise((r) => setTimeout(r, 300));
  s.write(body.slice(5));
  const text = await answer;
  t.diagnostic(`answer head: ${JSON.stringify(text.split('\r\n\r\n')[0])}`);
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.match(text, /\r\nconnection: close\r\n/i);
  assert.equal(await exit, 0);
});
