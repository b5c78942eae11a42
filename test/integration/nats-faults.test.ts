/**
 * nats-server (JetStream, file storage) killed (SIGKILL) mid-traffic and
 * restarted, on an instance this test owns: 503 fast while it is down, 200
 * again once it is back, and every delivery answered 200 (PubAck) is in the
 * stream afterwards.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNats, type Broker } from '../helpers/brokers.js';
import { outage, tally } from '../helpers/broker-outage.js';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';

const OUTPUT_TIMEOUT_MS = 1000;
let broker: Broker;
let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  broker = await startNats();
  dir = makeConfigDir();
  dir.write('connections.json', { nats_main: { type: 'nats', host: '127.0.0.1', port: broker.port } });
  dir.write('webhooks.json', { js: { module: 'nats', connection: 'nats_main', 'module-config': { subject: 'faults.events', stream: 'FAULTS', create_stream: true } } });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS) });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  await broker.destroy();
  dir.remove();
});

async function stored(port: number): Promise<Set<string>> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  const ids = new Set<string>();
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('FAULTS');
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('FAULTS', { seq });
      const id = m?.header.get('Nats-Msg-Id');
      if (id) ids.add(id);
    }
  } finally {
    await nc.close();
  }
  return ids;
}

test('NATS JetStream killed mid-traffic: 503 within the timeout, back → 200, nothing answered 200 is missing from the stream', async (t: TestContext) => {
  const r = await outage(cwm, '/webhook/js', broker, OUTPUT_TIMEOUT_MS, 'js');
  t.diagnostic(tally('nats kill -9', r, await stored(broker.port)));
});
