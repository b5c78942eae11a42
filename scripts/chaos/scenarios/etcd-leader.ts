/**
 * A 3-node etcd cluster loses its leader (SIGKILL) and gets it back, several
 * times, while the sender posts to log webhooks and new webhooks are put
 * without pause. Each new webhook joins the sender's rotation once served.
 */
import { startCwm } from '../../../test/helpers/cwm-process.js';
import { startEtcd } from '../../../test/helpers/etcd.js';
import { waitFor } from '../../../test/helpers/ports.js';
import { logDeliveries, settle } from '../destinations.js';
import type { Scenario } from '../scenario.js';
import { acknowledged, cycle, single, startSender, STEADY } from '../sender.js';
import { tally } from '../tally.js';
import { hold, percentile, phase, startClock } from '../timeline.js';
import { cwmEnv, hookKey, hookPath, LOG_HOOK, putHook, seedHooks, type Change } from './etcd-config.js';

const SEEDED = 4;
const LOG_HOOK_WITH_HEADERS = JSON.stringify({ module: 'log', 'module-config': { include_headers: true } });

export const etcdLeader: Scenario = {
  name: 'etcd-leader',
  title: '3-node etcd: leader killed and restarted during traffic and config changes',
  async run({ short }) {
    const notes: string[] = [];
    const etcd = await startEtcd(3);
    try {
      const paths = await seedHooks(etcd, SEEDED);
      const cwm = await startCwm(cwmEnv(etcd));
      const sender = startSender({ ...STEADY, prefix: 'leader', nextPath: cycle(paths), pickInstance: single('cwm', cwm.port) });
      // Event times in the notes count from the start of traffic.
      const clock = startClock();
      // Config changes for the whole run, ~100 ms apart: each new webhook is put, awaited until served, then sent to.
      const changes: Change[] = [];
      let changing = true;
      let updates = 0;
      let changeError: Error | undefined;
      const changer = (async () => {
        for (let n = 0; changing; n++) {
          changes.push(await putHook(etcd, cwm, `new${n}`));
          paths.push(hookPath(`new${n}`));
          // A webhook in the rotation changes under traffic: its requests must stay 200 throughout.
          await waitFor(() => etcd.ctl('put', hookKey(`hook${n % SEEDED}`), Math.floor(n / SEEDED) % 2 === 0 ? LOG_HOOK_WITH_HEADERS : LOG_HOOK).then(() => true), 30_000, 'update', 100);
          updates++;
          await hold(100);
        }
      })().catch((err: Error) => (changeError = err));
      try {
        const rounds = short ? 1 : 3;
        await hold(phase(short, 3000, 1500));
        for (let r = 0; r < rounds; r++) {
          const leader = await etcd.leaderIndex();
          await etcd.kill(leader);
          const killedAt = Date.now();
          const killedLabel = clock.at();
          await waitFor(() => etcd.leaderIndex().then((i) => i !== leader && i >= 0), 20_000, 'new leader', 20);
          const electedMs = clock.since(killedAt);
          await hold(phase(short, 4000, 1500));
          await etcd.restart(leader);
          await waitFor(() => etcd.ctl('endpoint', 'health', `--endpoints=${etcd.endpoints[leader]}`).then(() => true), 20_000, 'old leader back', 50);
          notes.push(`round ${r + 1}: leader n${leader} killed at ${killedLabel}, new leader after ${electedMs} ms; n${leader} restarted and healthy ${(clock.since(killedAt) / 1000).toFixed(1)} s after the kill`);
          await hold(phase(short, 3000, 1500));
        }
      } finally {
        changing = false;
        await changer;
        await sender.stop();
        notes.push(`cwm exit code after SIGTERM: ${await cwm.stop()}`);
      }
      if (changeError) throw changeError;
      const applied = changes.map((c) => c.appliedMs);
      notes.push(`${changes.length} webhooks put during the run, every one served: put acknowledged → 200 p50 ${percentile(applied, 50)} ms, max ${Math.max(...applied)} ms (25 ms polling); puts that needed a retry (no leader yet): ${changes.filter((c) => c.tries > 1).length}`);
      notes.push(`webhooks in the sender's rotation at the end: ${paths.length}; webhooks in the rotation changed under traffic (put of a new config): ${updates}`);
      const acked = sender.deliveries.filter(acknowledged).map((d) => d.id);
      const found = await settle(() => logDeliveries([cwm]), acked);
      return { tallies: [tally('log lines', sender.deliveries, found)], notes };
    } finally {
      await etcd.destroy();
    }
  },
};
