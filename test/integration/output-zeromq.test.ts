/**
 * `zeromq` with peers in the test process (real libzmq sockets over TCP):
 * CWM's documented PUB webhook; PUSH answering 503 with no peer and 200
 * once a PULL peer is connected (every 2xx received); REQ acknowledged only
 * by the peer's reply, 503 when the peer does not reply.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pull, Reply, Subscriber } from 'zeromq';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { freePort, waitFor } from '../helpers/ports.js';

const OUTPUT_TIMEOUT_MS = 1000;
let dir: ConfigDir;
let cwm: CwmProcess;
let pubPort: number;
let pushPort: number;
let reqPort: number;

before(async () => {
  [pubPort, pushPort, reqPort] = [await freePort(), await freePort(), await freePort()];
  dir = makeConfigDir();
  dir.write('webhooks.json', {
    // CWM's docs (docs/modules/zeromq.md), on a free port.
    zeromq_webhook: { data_type: 'json', module: 'zeromq', 'module-config': { endpoint: `tcp://localhost:${pubPort}`, socket_type: 'PUB' }, authorization: 'Bearer token' },
    push: { module: 'zeromq', 'module-config': { endpoint: `tcp://127.0.0.1:${pushPort}`, socket_type: 'PUSH' } },
    req: { module: 'zeromq', 'module-config': { endpoint: `tcp://127.0.0.1:${reqPort}`, socket_type: 'REQ' } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), LOG_LEVEL: 'info' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  dir.remove();
});

test("CWM's documented PUB webhook: a subscriber gets the JSON payload (messages before it joined are dropped: PUB has no acknowledgement)", async () => {
  const sub = new Subscriber();
  sub.connect(`tcp://127.0.0.1:${pubPort}`);
  sub.subscribe();
  try {
    const received = sub.receive();
    // PUB binds on the first delivery and drops what no subscriber holds yet: send until one arrives.
    let n = 0;
    let got: Buffer[] | undefined;
    void received.then((m) => (got = m));
    await waitFor(async () => {
      const res = await cwm.post('/webhook/zeromq_webhook', { event: 'push', n: ++n }, { authorization: 'Bearer token' });
      assert.equal(res.status, 200);
      await new Promise((r) => setTimeout(r, 50));
      return got !== undefined;
    }, 15_000, 'a published message received');
    assert.equal(got?.length, 1, 'one frame per delivery, as CWM sends');
    const body = JSON.parse(got?.[0]?.toString() ?? '') as { event: string; n: number };
    assert.equal(body.event, 'push');
  } finally {
    sub.close();
  }
});

test('PUSH: 503 with no peer connected; 200 once a PULL peer is connected and every 2xx arrives; 503 again after it leaves', async () => {
  // First delivery binds the socket; nobody is connected yet.
  const noPeer = await cwm.post('/webhook/push', { n: 0 });
  assert.equal(noPeer.status, 503);
  assert.ok(noPeer.headers.get('retry-after'));
  const pull = new Pull();
  pull.connect(`tcp://127.0.0.1:${pushPort}`);
  const received: string[] = [];
  const reading = (async () => {
    for await (const [frame] of pull) received.push(frame?.toString() ?? '');
  })().catch(() => undefined);
  await waitFor(async () => (await cwm.post('/webhook/push', { n: 'probe' })).status === 200, 10_000, 'PUSH accepted once the peer is connected');
  const acked: number[] = [];
  for (let n = 1; n <= 50; n++) {
    const res = await cwm.post('/webhook/push', { n });
    if (res.status === 200) acked.push(n);
  }
  assert.equal(acked.length, 50);
  await waitFor(() => acked.every((n) => received.includes(JSON.stringify({ n }))), 10_000, 'every acknowledged message received');
  pull.close();
  await reading;
  await waitFor(async () => (await cwm.post('/webhook/push', { n: 'gone' })).status === 503, 10_000, '503 once the peer left');
});

test("REQ: 200 only after the peer's reply; 503 within the timeout when the peer does not reply", async () => {
  const rep = new Reply();
  rep.connect(`tcp://127.0.0.1:${reqPort}`);
  const got: string[] = [];
  let replying = true;
  const serving = (async () => {
    for await (const [frame] of rep) {
      got.push(frame?.toString() ?? '');
      if (replying) await rep.send('ok');
      else break;
    }
  })().catch(() => undefined);
  try {
    await waitFor(async () => (await cwm.post('/webhook/req', { n: 'probe' })).status === 200, 10_000, 'REQ answered');
    const res = await cwm.post('/webhook/req', { n: 1 });
    assert.equal(res.status, 200);
    assert.ok(got.includes(JSON.stringify({ n: 1 })));
    replying = false;
    const t0 = Date.now();
    const silent = await cwm.post('/webhook/req', { n: 2 });
    assert.equal(silent.status, 503, 'no reply → not acknowledged');
    assert.ok(Date.now() - t0 < OUTPUT_TIMEOUT_MS + 2000, 'within OUTPUT_TIMEOUT_MS (+ slack)');
  } finally {
    rep.close();
    await serving;
  }
});
