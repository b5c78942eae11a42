/**
 * DESIGN §4 for the log output: the 2xx is sent only once the line is in the
 * kernel. Whatever reads cwm's stdout stalls for a while (a slow log
 * shipper), then cwm is killed with SIGKILL (no exit handler, no flush): the
 * line of every delivery it acknowledged must be there. A logger that buffers
 * in memory keeps acknowledging while the reader stalls and loses those lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeConfigDir } from '../helpers/config-dir.js';
import { startCwm } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';
import { startTraffic } from '../helpers/traffic.js';

test('stalled stdout reader, then SIGKILL under traffic: every acknowledged log delivery is on stdout', async () => {
  const dir = makeConfigDir();
  dir.write('webhooks.json', { hook: { data_type: 'json', module: 'log' } });
  const cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path });
  try {
    const traffic = startTraffic((id) => cwm.post('/webhook/hook', { n: id }, { 'x-delivery-id': id }), { concurrency: 32, prefix: 'kill' });
    const acknowledged = (): number => traffic.outcomes.filter((o) => o.status === 200).length;
    await waitFor(async () => acknowledged() >= 1500, 30_000, '1500 acknowledged deliveries');
    cwm.proc.stdout?.pause(); // the pipe fills up: from then on cwm cannot write a line
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const closed = new Promise<void>((resolve) => cwm.proc.once('close', () => resolve()));
    cwm.proc.kill('SIGKILL');
    cwm.proc.stdout?.resume();
    await closed; // stdout fully read: everything the process wrote before it died
    await traffic.stop();

    const acked = traffic.outcomes.filter((o) => o.status === 200).map((o) => o.id);
    const logged = new Set(cwm.logs.filter((l) => l.msg === 'webhook received').map((l) => l.delivery_id));
    const missing = acked.filter((id) => !logged.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged deliveries have no log line`);
    assert.ok(traffic.outcomes.every((o) => o.status === 200 || o.status === 0), 'only 200s, and no answer once killed');
  } finally {
    await cwm.stop();
    dir.remove();
  }
});
