/**
 * The cost of applying one watch event (ConfigManager.upsert of a new key,
 * as the etcd provider calls it) with 25 000 webhooks loaded vs with 10,
 * measured in-process so that etcd and HTTP add no noise: the ratio shows
 * whether per-event work grows with the number of keys.
 */
import { gridEntries, logHookValue } from '../../test/helpers/etcd-seed.js';
import { parseKey, type EntryKey } from '../../src/config/keys.js';
import type { RawEntry } from '../../src/config/provider.js';
import { median } from '../lib/compare.js';
import { inProcessManager } from '../lib/in-process-manager.js';
import type { Scenario } from '../lib/scenario.js';

function entry(key: string, value: string): RawEntry {
  const parsed = parseKey('/cwm/', key) as EntryKey;
  return { key: parsed, value, source: key };
}

/**
 * Median microseconds per upsert of a new key over `events` events, each
 * removed again (untimed) so the size stays put. Like real watch events, each
 * runs in its own macrotask, so the promises of closed webhooks settle in between.
 */
async function upsertCost(loaded: number, events: number): Promise<number> {
  const m = inProcessManager();
  m.replaceAll(gridEntries(loaded / 5, 5).map((e) => entry(e.key, e.value)));
  const samples: number[] = [];
  const value = logHookValue('event');
  for (let i = 0; i < events; i++) {
    const e = entry(`/cwm/events/webhooks/e${i}`, value);
    const started = performance.now();
    m.upsert(e);
    samples.push((performance.now() - started) * 1000);
    m.remove(e.key, e.source);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (m.size !== loaded) throw new Error(`expected ${loaded} webhooks loaded, found ${m.size}`);
  return median(samples.slice(events / 5)); // the first fifth warms the JIT up
}

export const watchEventScenario: Scenario = {
  name: 'watch-event',
  description: 'in-process ConfigManager.upsert of a new webhook (what one etcd watch event does) with 25 000 vs 10 webhooks loaded; median of many events',
  async run(ctx) {
    const events = ctx.smoke ? 500 : 5000;
    const large = ctx.smoke ? 2000 : 25_000;
    // Alternate sizes twice so JIT warm-up favours neither.
    const small1 = await upsertCost(10, events);
    const large1 = await upsertCost(large, events);
    const small2 = await upsertCost(10, events);
    const large2 = await upsertCost(large, events);
    const small = Math.min(small1, small2);
    const big = Math.min(large1, large2);
    return [
      { measure: 'one watch event, 10 webhooks loaded', value: small, unit: 'us' },
      { measure: `one watch event, ${large} webhooks loaded`, value: big, unit: 'us' },
      { measure: `watch event cost ratio, ${large} / 10`, value: big / small, unit: 'x', goal: { op: '<=', target: 1.5 } },
    ];
  },
};
