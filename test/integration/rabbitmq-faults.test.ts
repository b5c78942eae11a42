/**
 * RabbitMQ killed (SIGKILL) mid-traffic and restarted, on a node this test
 * owns: 503 fast while it is down, 200 again once it is back, and every
 * delivery answered 200 is in the durable queue afterwards (publisher
 * confirms + persistent messages survive the kill).
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import amqplib from 'amqplib';
import { startRabbitmq, type Broker } from '../helpers/brokers.js';
import { outage, tally } from '../helpers/broker-outage.js';
import { waitFor } from '../helpers/ports.js';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';

const OUTPUT_TIMEOUT_MS = 1000;
let broker: Broker;
let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  broker = await startRabbitmq();
  dir = makeConfigDir();
  dir.write('connections.json', { rabbitmq_local: { type: 'rabbitmq', host: '127.0.0.1', port: broker.port, user: 'guest', pass: 'guest' } });
  dir.write('webhooks.json', { rmq: { module: 'rabbitmq', connection: 'rabbitmq_local', queue_name: 'faults' } });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS) });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await broker.destroy();
  dir.remove();
});

/**
 * Every delivery id in the queue. A restarted broker recovers a durable queue's messages after it
 * accepts connections; on a busy machine an early basic.get found the queue empty (every id
 * "lost" in one CI run), so the read waits until the queue holds at least `expected` messages
 * (or 30 s pass: then what is there is what is counted).
 */
async function queued(port: number, expected: number): Promise<{ ids: Set<string>; seen: string }> {
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const ids = new Set<string>();
  // What the broker last said of the queue, named in a failure: a run under the full suite once found
  // it empty for 30 s (every id "lost", the ones acknowledged after the restart too); not reproduced alone.
  let seen = 'no answer to checkQueue';
  try {
    const ch = await conn.createChannel();
    await waitFor(
      async () => {
        const q = await ch.checkQueue('faults');
        seen = `messageCount=${q.messageCount} consumerCount=${q.consumerCount}`;
        return q.messageCount >= expected;
      },
      30_000,
      'the queue holds what was acknowledged',
    ).catch((err: unknown) => {
      seen += ` (${(err as Error).message})`;
    });
    for (;;) {
      const msg = await ch.get('faults', { noAck: true });
      if (!msg) break;
      const id: unknown = msg.properties.headers?.['cwm-delivery-id'];
      if (typeof id === 'string') ids.add(id);
    }
  } finally {
    await conn.close();
  }
  return { ids, seen };
}

test('RabbitMQ killed mid-traffic: 503 within the timeout, back → 200, nothing answered 200 is missing from the durable queue', async (t: TestContext) => {
  const r = await outage(cwm, '/webhook/rmq', broker, OUTPUT_TIMEOUT_MS, 'rmq');
  const { ids, seen } = await queued(broker.port, r.acked.length);
  t.diagnostic(tally(`rabbitmq kill -9 (queue: ${seen})`, r, ids));
});
