/**
 * websocket through a real cwm process and a real ws server owned by the
 * test: message format, handshake headers, one reused connection,
 * wait_for_response (a reply acknowledges; none → 503), the server stopped
 * mid-traffic and restarted in both modes (no delivery answered 200 is
 * missing at the server), and a CWM-format config from CWM's docs.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startTraffic, type Outcome } from '../helpers/traffic.js';

const OUTPUT_TIMEOUT_MS = 1000;

interface Target {
  port: number;
  /** path → messages received (text) */
  readonly messages: Map<string, string[]>;
  readonly handshakes: { path: string; headers: IncomingHttpHeaders }[];
  start(): Promise<void>;
  /** graceful: close frames to every client, then close; hard: sockets destroyed */
  stop(how: 'graceful' | 'hard'): Promise<void>;
}

async function startTarget(): Promise<Target> {
  let http: Server | undefined;
  let wss: WebSocketServer | undefined;
  const t: Target = {
    port: 0,
    messages: new Map(),
    handshakes: [],
    async start() {
      const server = createServer();
      const ws = new WebSocketServer({ server });
      ws.on('connection', (sock: WebSocket, req) => {
        const path = req.url ?? '/';
        t.handshakes.push({ path, headers: req.headers });
        sock.on('message', (data: Buffer) => {
          const list = t.messages.get(path) ?? [];
          list.push(data.toString());
          t.messages.set(path, list);
          // Replies only after recording, so a reply means "stored".
          if (path.startsWith('/reply')) sock.send('ack');
        });
      });
      await new Promise<void>((resolve) => server.listen(t.port, '127.0.0.1', resolve));
      t.port = (server.address() as AddressInfo).port;
      http = server;
      wss = ws;
    },
    async stop(how) {
      const [s, w] = [http, wss];
      http = undefined;
      wss = undefined;
      if (!s || !w) return;
      for (const c of w.clients) how === 'graceful' ? c.close(1001) : c.terminate();
      await new Promise<void>((resolve) => w.close(() => resolve()));
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await t.start();
  return t;
}

let target: Target;
let dir: ConfigDir;
let cwm: CwmProcess;
const idsAt = (path: string): Set<string> => new Set((target.messages.get(path) ?? []).map((m) => (JSON.parse(m) as { payload: { id: string } }).payload.id));

before(async () => {
  target = await startTarget();
  const base = `ws://127.0.0.1:${target.port}`;
  dir = configDirWith({
    js: { module: 'websocket', 'module-config': { url: `${base}/js`, include_headers: true, headers: { 'X-Hand': 'shake' } } },
    raw: { module: 'websocket', 'module-config': { url: `${base}/raw`, format: 'raw' } },
    reply: { module: 'websocket', 'module-config': { url: `${base}/reply`, wait_for_response: true } },
    silent: { module: 'websocket', 'module-config': { url: `${base}/silent`, wait_for_response: true, timeout: 0.5 } },
    ft: { module: 'websocket', 'module-config': { url: `${base}/ft` } },
    ftr: { module: 'websocket', 'module-config': { url: `${base}/reply-ft`, wait_for_response: true } },
    // CWM's docs (config/development/webhooks.json), pointed at the test's server; `localhost` resolves through the guard.
    cwm_doc: { data_type: 'json', module: 'websocket', 'module-config': { url: `ws://localhost:${target.port}/webhooks`, format: 'json', include_headers: true, wait_for_response: false, timeout: 10, max_retries: 3, headers: { 'X-API-Key': 'websocket_key' } }, authorization: 'Bearer ws_secret' },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), ALLOW_LOCALHOST_FOR_TESTS: 'true' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await target.stop('hard');
  dir.remove();
});

test('json format with headers over one reused connection; handshake carries the configured headers', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await cwm.post('/webhook/js', { id: `js-${i}` }, { 'x-trace': 't1' })).status, 200);
  const msgs = (target.messages.get('/js') ?? []).map((m) => JSON.parse(m) as { payload: { id: string }; headers: Record<string, string> });
  assert.deepEqual(msgs.map((m) => m.payload.id), ['js-0', 'js-1', 'js-2', 'js-3', 'js-4']);
  assert.equal(msgs[0]?.headers['x-trace'], 't1');
  const hands = target.handshakes.filter((h) => h.path === '/js');
  assert.equal(hands.length, 1, 'one connection for five deliveries');
  assert.equal(hands[0]?.headers['x-hand'], 'shake');
});

test('raw format sends the body as received', async () => {
  const body = '{"id":"raw-1","b":true}';
  assert.equal((await cwm.post('/webhook/raw', body)).status, 200);
  assert.deepEqual(target.messages.get('/raw'), [body]);
});

test('wait_for_response: a reply acknowledges; no reply → 503 within the timeout', async () => {
  assert.equal((await cwm.post('/webhook/reply', { id: 'r-1' })).status, 200);
  const started = Date.now();
  const res = await cwm.post('/webhook/silent', { id: 'sil-1' });
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
  assert.ok(Date.now() - started < OUTPUT_TIMEOUT_MS + 1500);
});

test("CWM's documented websocket config delivers end to end", async () => {
  assert.equal((await cwm.post('/webhook/cwm_doc', { id: 'doc-1' }, { authorization: 'Bearer ws_secret' })).status, 200);
  const msg = JSON.parse((target.messages.get('/webhooks') ?? [])[0] ?? '{}') as { payload: { id: string }; headers: Record<string, string> };
  assert.equal(msg.payload.id, 'doc-1');
  assert.equal(msg.headers.authorization, undefined, 'the credential is not forwarded');
  assert.equal(target.handshakes.find((h) => h.path === '/webhooks')?.headers['x-api-key'], 'websocket_key');
});

for (const [hook, path, how] of [['ft', '/ft', 'graceful'], ['ftr', '/reply-ft', 'hard']] as const) {
  test(`server stopped (${how}) mid-traffic and restarted, ${hook === 'ftr' ? 'wait_for_response' : 'write acknowledgement'}: 503 fast meanwhile, 200 after, nothing answered 200 is missing`, async (t: TestContext) => {
    const ok = (o: readonly Outcome[], since = 0): Outcome[] => o.filter((x) => x.status === 200 && x.at >= since);
    const traffic = startTraffic((id) => cwm.post(`/webhook/${hook}`, { id }), { concurrency: 4, prefix: `${hook}` });
    try {
      await waitFor(() => ok(traffic.outcomes).length >= 100, 15_000, '100 acknowledged');
      await target.stop(how);
      const downAt = Date.now();
      await waitFor(() => traffic.outcomes.filter((o) => o.status === 503 && o.at >= downAt).length >= 30, 15_000, '503s while the server is down');
      await target.start();
      const upAt = Date.now();
      await waitFor(() => ok(traffic.outcomes, upAt).length >= 100, 15_000, '200s once the server is back');
    } finally {
      await traffic.stop();
    }
    const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
    assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'only 200 and 503');
    const slow = traffic.outcomes.filter((o) => o.status === 503 && o.ms > OUTPUT_TIMEOUT_MS + 1500);
    assert.deepEqual(slow.map((o) => o.id), [], '503 within OUTPUT_TIMEOUT_MS');
    const seen = idsAt(path);
    const acked = ok(traffic.outcomes);
    const lost = acked.filter((o) => !seen.has(o.id));
    assert.deepEqual(lost.map((o) => o.id), [], 'acknowledged then missing at the server');
    t.diagnostic(`websocket ${how} restart (${hook}): sent=${traffic.outcomes.length} 2xx=${acked.length} 503=${traffic.outcomes.filter((o) => o.status === 503).length} lost=${lost.length}`);
  });
}

test('outbound guard without ALLOW_LOCALHOST_FOR_TESTS: the handshake to a name resolving to 127.0.0.1 is refused, a loopback literal at config time', async () => {
  const handshakes = target.handshakes.length;
  const guardedDir = configDirWith({
    byname: { module: 'websocket', 'module-config': { url: `ws://localhost:${target.port}/guard` } },
    literal: { module: 'websocket', 'module-config': { url: `ws://[::1]:${target.port}/guard` } },
  });
  const strict = await startCwm({ CONFIG_DIR: guardedDir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS) });
  try {
    const refusals = (): string => strict.logs.filter((l) => String(l.msg).startsWith('invalid config entry ignored')).map((l) => `${String(l.key)} ${String(l.reason)}`).join('\n');
    await waitFor(() => /literal/.test(refusals()), 5000, 'literal refused');
    assert.match(refusals(), /literal.*\/module-config\/url host ::1 is a loopback address/);
    for (let i = 0; i < 3; i++) assert.equal((await strict.post('/webhook/byname', { id: `g-${i}` })).status, 503);
    assert.equal(target.handshakes.length, handshakes, 'no handshake reached the server');
    assert.equal(target.messages.get('/guard'), undefined);
  } finally {
    await strict.stop();
    guardedDir.remove();
  }
});
