/**
 * Two cwm instances serve one log webhook; the sender alternates between
 * them. One gets SIGTERM under load: what it acknowledged must be in its log
 * lines, and what it refuses once closed is retried on the other instance.
 */
import { configDirWith } from '../../../test/helpers/config-dir.js';
import { startCwm } from '../../../test/helpers/cwm-process.js';
import { logDeliveries, settle } from '../destinations.js';
import type { Scenario } from '../scenario.js';
import { acknowledged, roundRobin, startSender, STEADY } from '../sender.js';
import { countIds, tally } from '../tally.js';
import { hold, phase, startClock } from '../timeline.js';

export const sigterm: Scenario = {
  name: 'sigterm',
  title: 'SIGTERM to one of two cwm instances under load (log webhook)',
  async run({ short }) {
    const notes: string[] = [];
    const dir = configDirWith({ hook: { module: 'log', 'module-config': { include_headers: false } } });
    try {
      const env = { CONFIG_DIR: dir.path, SHUTDOWN_TIMEOUT_MS: '10000' };
      const [a, b] = await Promise.all([startCwm(env), startCwm(env)]);
      const sender = startSender({ ...STEADY, prefix: 'term', nextPath: () => '/webhook/hook', pickInstance: roundRobin([{ instance: 'a', port: a.port }, { instance: 'b', port: b.port }]) });
      // Event times in the notes count from the start of traffic.
      const clock = startClock();
      try {
        await hold(phase(short, 5000, 1500));
        const termAt = Date.now();
        const code = await a.stop('SIGTERM');
        notes.push(`instance a: SIGTERM at ${clock.at()}, exited with ${code} after ${clock.since(termAt)} ms`);
        await hold(phase(short, 5000, 1500));
      } finally {
        await sender.stop();
        notes.push(`instance b: exit code after SIGTERM at the end: ${await b.stop()}`);
      }
      const acked = sender.deliveries.filter(acknowledged).map((d) => d.id);
      const found = await settle(() => logDeliveries([a, b]), acked);
      const servedBy = (instance: string): number => sender.deliveries.filter((d) => d.attempts.some((x) => x.instance === instance && x.status === 200)).length;
      const unanswered = countIds(sender.deliveries.flatMap((d) => d.attempts.filter((x) => x.instance === 'a' && x.status === 0).map((x) => x.error ?? 'unknown')));
      const byCode = [...unanswered].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
      notes.push(`2xx from a: ${servedBy('a')}, from b: ${servedBy('b')}; attempts to a without an answer once it closed: ${byCode}; each retried on b`);
      return { tallies: [tally('log lines of a and b', sender.deliveries, found)], notes };
    } finally {
      dir.remove();
    }
  },
};
