/**
 * The shape of both broker runs: one webhook bound to a broker connection,
 * steady load, the broker taken away for a while and brought back, then every
 * acknowledged delivery looked up at the broker.
 */
import { configDirWith } from '../../../test/helpers/config-dir.js';
import { startCwm } from '../../../test/helpers/cwm-process.js';
import { settle, type Counts } from '../destinations.js';
import type { Scenario } from '../scenario.js';
import { acknowledged, single, startSender, STEADY } from '../sender.js';
import { answerTimes, tally } from '../tally.js';
import { hold, phase, startClock } from '../timeline.js';

const OUTPUT_TIMEOUT_MS = 1000;

/** A running broker as the scenario sees it. */
export interface Broker {
  /** The connection config cwm gets (connections.json entry). */
  readonly connection: Record<string, unknown>;
  readonly webhook: Record<string, unknown>;
  /** Where the deliveries are counted, e.g. `BullMQ queue "chaos"`. */
  readonly destination: string;
  /** Takes the broker away; resolves a note on what was done. */
  fail(): Promise<string>;
  recover(): Promise<string>;
  read(): Promise<Counts>;
  /** Why duplicates can or cannot appear here. */
  readonly duplicatesNote: string;
  destroy(): Promise<void>;
}

export function brokerOutage(name: string, title: string, start: () => Promise<Broker>): Scenario {
  return {
    name,
    title,
    async run({ short }) {
      const notes: string[] = [];
      const broker = await start();
      const dir = configDirWith({ hook: { ...broker.webhook, connection: 'broker' } }, { broker: broker.connection });
      try {
        const cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), LOG_LEVEL: 'warn' });
        const sender = startSender({ ...STEADY, prefix: name, nextPath: () => '/webhook/hook', pickInstance: single('cwm', cwm.port) });
        // Event times in the notes count from the start of traffic.
        const clock = startClock();
        try {
          await hold(phase(short, 4000, 1500));
          const failedAt = Date.now();
          notes.push(`${await broker.fail()} at ${clock.at()}`);
          await hold(phase(short, 8000, 1500));
          notes.push(`${await broker.recover()} at ${clock.at()}, ${(clock.since(failedAt) / 1000).toFixed(1)} s after it went away`);
          await hold(phase(short, 6000, 2500));
        } finally {
          await sender.stop();
          notes.push(`cwm exit code after SIGTERM: ${await cwm.stop()}`);
        }
        const acked = sender.deliveries.filter(acknowledged).map((d) => d.id);
        const found = await settle(() => broker.read(), acked);
        notes.push(`${answerTimes(sender.deliveries, 503)}; OUTPUT_TIMEOUT_MS ${OUTPUT_TIMEOUT_MS}`, broker.duplicatesNote);
        return { tallies: [tally(broker.destination, sender.deliveries, found)], notes };
      } finally {
        await broker.destroy();
        dir.remove();
      }
    },
  };
}
