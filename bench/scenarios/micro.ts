/**
 * Heap per loaded webhook, in process: 25 000 webhooks that each carry
 * authorization and rate_limit (the etcd-config scenario's configs) loaded
 * into a ConfigManager as the etcd backend delivers them, heap measured
 * after a full GC before and after. Plus the one-shot digest against
 * createHash (src/auth/constant-time.ts).
 */
import { createHash, hash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { gridEntries, securedHookValue } from '../../test/helpers/etcd-seed.js';
import { ConfigManager } from '../../src/config/manager.js';
import { parseKey, type EntryKey } from '../../src/config/keys.js';
import type { RawEntry } from '../../src/config/provider.js';
import { LiveConnections } from '../../src/connections/live.js';
import { Metrics } from '../../src/observability/metrics.js';
import { median } from '../lib/compare.js';
import type { Scenario } from '../lib/scenario.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function bytesPerWebhook(count: number): Promise<number> {
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
  const before = heapAfterGc();
  // Made after the first measurement: what the manager keeps of them is charged to it, the rest is garbage.
  const entries: RawEntry[] = gridEntries(count / 5, 5, '/cwm/', securedHookValue).map((e, i) => ({ key: parseKey('/cwm/', e.key) as EntryKey, value: e.value, source: e.key, revision: i + 2 }));
  const manager = new ConfigManager({ logger, metrics: new Metrics({ defaultMetrics: false }), connections: new LiveConnections(logger), maxBodyBytes: 1024 * 1024, envAllowlist: /^CWM_/ });
  // The entries are the provider's: dropped once handed over, as the etcd provider drops its page.
  manager.replaceAll(entries.splice(0));
  const after = heapAfterGc();
  if (manager.size !== count) throw new Error(`expected ${count} webhooks, loaded ${manager.size}`);
  await manager.closeAll();
  return (after - before) / count;
}

function nsPerDigest(digest: (value: string) => Buffer, rounds: number): number {
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    for (let i = 0; i < rounds; i++) digest(`Bearer tok-${i}`);
    samples.push(((performance.now() - started) * 1e6) / rounds);
  }
  return median(samples);
}

export const webhookMemoryScenario: Scenario = {
  name: 'webhook-memory',
  description: 'in-process: heap per loaded webhook (authorization + rate_limit, entries as the etcd backend delivers them); one-shot crypto.hash vs createHash per digest',
  async run(ctx) {
    const count = ctx.smoke ? 2000 : 25_000;
    const rounds = ctx.smoke ? 20_000 : 200_000;
    // A first small load: code, shapes and shared tables are then in place and not charged to the measured one.
    await bytesPerWebhook(1000);
    const perWebhook = await bytesPerWebhook(count);
    const oneShot = nsPerDigest((v) => hash('sha256', v, 'buffer'), rounds);
    const hasher = nsPerDigest((v) => createHash('sha256').update(v).digest(), rounds);
    return [
      { measure: `heap per loaded webhook (authorization + rate_limit), ${count} loaded`, value: perWebhook, unit: 'bytes' },
      { measure: 'sha256 digest, crypto.hash', value: oneShot, unit: 'ns' },
      { measure: 'sha256 digest, createHash', value: hasher, unit: 'ns' },
      { measure: 'crypto.hash / createHash', value: oneShot / hasher, unit: 'x' },
    ];
  },
};
