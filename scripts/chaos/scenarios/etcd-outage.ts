/**
 * The only etcd is down for 30 s (3 s with --short) while the sender posts to
 * log webhooks: cwm serves its cached config throughout, reports etcd
 * disconnected, and applies the changes made once etcd is back.
 */
import { health } from '../../../test/helpers/cwm-http.js';
import { startCwm } from '../../../test/helpers/cwm-process.js';
import { startEtcd } from '../../../test/helpers/etcd.js';
import { waitFor } from '../../../test/helpers/ports.js';
import { logDeliveries, settle } from '../destinations.js';
import type { Scenario } from '../scenario.js';
import { acknowledged, cycle, single, startSender, STEADY } from '../sender.js';
import { tally } from '../tally.js';
import { hold, phase, startClock } from '../timeline.js';
import { cwmEnv, deleteHook, hookKey, hookPath, LOG_HOOK, putHook, seedHooks } from './etcd-config.js';

export const etcdOutage: Scenario = {
  name: 'etcd-outage',
  title: 'etcd fully down, then back (cached config keeps serving; later changes applied)',
  async run({ short }) {
    const notes: string[] = [];
    const etcd = await startEtcd(1);
    try {
      const paths = await seedHooks(etcd, 4);
      await etcd.ctl('put', hookKey('retired'), LOG_HOOK);
      const cwm = await startCwm(cwmEnv(etcd));
      const sender = startSender({ ...STEADY, prefix: 'outage', nextPath: cycle(paths), pickInstance: single('cwm', cwm.port) });
      // Event times in the notes count from the start of traffic.
      const clock = startClock();
      try {
        await hold(phase(short, 3000, 1500));
        await etcd.stopAll();
        const downAt = Date.now();
        const outageMs = phase(short, 30_000, 3000);
        await waitFor(async () => (await health(cwm)).etcd === 'disconnected', outageMs, '/health etcd disconnected', 50);
        const h = await health(cwm);
        notes.push(`etcd SIGKILLed at ${clock.at()}; /health reported etcd "${h.etcd}" with status ${h.status} after ${clock.since(downAt)} ms`);
        await hold(outageMs - clock.since(downAt));
        await etcd.startAll();
        const backAt = Date.now();
        notes.push(`etcd back at ${clock.at()} after ${(clock.since(downAt) / 1000).toFixed(1)} s down`);
        await waitFor(async () => (await health(cwm)).etcd === 'healthy', 20_000, '/health etcd healthy', 50);
        notes.push(`/health etcd "healthy" again ${clock.since(backAt)} ms after etcd was back`);
        for (let i = 0; i < 3; i++) {
          const change = await putHook(etcd, cwm, `after${i}`);
          paths.push(hookPath(`after${i}`));
          notes.push(`put after${i} (${clock.since(backAt)} ms after etcd was back): served ${change.appliedMs} ms after the put's acknowledgement`);
        }
        const removal = await deleteHook(etcd, cwm, 'retired');
        notes.push(`del retired: 404 ${removal.appliedMs} ms after the delete's acknowledgement`);
        await hold(phase(short, 4000, 1500));
      } finally {
        await sender.stop();
        notes.push(`cwm exit code after SIGTERM: ${await cwm.stop()}`);
      }
      const acked = sender.deliveries.filter(acknowledged).map((d) => d.id);
      const found = await settle(() => logDeliveries([cwm]), acked);
      return { tallies: [tally('log lines', sender.deliveries, found)], notes };
    } finally {
      await etcd.destroy();
    }
  },
};
