/**
 * Config from etcd, end to end with real processes: put→served latency (the
 * put's acknowledgement to the first 200 from cwm) with 10 and with 25 000
 * keys loaded, and startup to /ready and RSS with 25 000 keys.
 */
import type { Etcd3 } from 'etcd3';
import { gridEntries, logHookValue, putMany } from '../../test/helpers/etcd-seed.js';
import { median } from '../lib/compare.js';
import { withEtcd } from '../lib/etcd-cwm.js';
import { Probe } from '../lib/probe.js';
import type { ServerProcess } from '../lib/processes.js';
import type { Figure, Scenario } from '../lib/scenario.js';

const WARMUP_KEYS = 20;

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Puts `count` new webhooks one by one; for each, the time from the put's acknowledgement until cwm first answers 200. */
async function putToServed(client: Etcd3, cwm: ServerProcess, namespace: string, count: number): Promise<number[]> {
  const probe = new Probe(cwm.baseUrl);
  try {
    const latencies: number[] = [];
    for (let i = 0; i < WARMUP_KEYS + count; i++) {
      await client.put(`/cwm/${namespace}/webhooks/h${i}`).value(logHookValue(`${namespace}-${i}`));
      const ms = await probe.untilServed(`/webhook/${namespace}/h${i}`);
      if (i >= WARMUP_KEYS) latencies.push(ms);
    }
    return latencies;
  } finally {
    probe.close();
  }
}

function latencyFigures(label: string, ms: readonly number[]): Figure[] {
  return [
    { measure: `put→served p50, ${label}`, value: median(ms), unit: 'ms' },
    { measure: `put→served p99, ${label}`, value: percentile(ms, 99), unit: 'ms', goal: { op: '<=', target: 3 } },
    { measure: `put→served max, ${label}`, value: Math.max(...ms), unit: 'ms' },
  ];
}

export const etcdConfigScenario: Scenario = {
  name: 'etcd-config',
  description: 'real etcd + cwm (etcd backend): put→served over new keys with 10 and 25 000 keys loaded (polled on one keep-alive socket); process start → /ready and RSS with 25 000 keys (5000 namespaces × 5)',
  async run(ctx) {
    const keys = ctx.smoke ? 20 : 300;
    const [namespaces, perNamespace] = ctx.smoke ? [400, 5] : [5000, 5];
    const large = namespaces * perNamespace;
    return withEtcd(ctx, async ({ client, startCwm }) => {
      await putMany(client, gridEntries(2, 5));
      const small = await startCwm('etcd-10');
      ctx.log(`put→served with 10 keys, ${keys} keys`);
      const smallMs = await putToServed(client, small, 'lat-small', keys);
      await small.stop();
      await client.delete().prefix('/cwm/lat-small/');

      ctx.log(`seeding ${large} keys`);
      await putMany(client, gridEntries(namespaces, perNamespace));
      const big = await startCwm(`etcd-${large}`, 60_000);
      const readyMs = big.readyMs;
      const readyCpuMs = big.cpuSeconds() * 1000;
      const rssMb = big.rssBytes() / (1024 * 1024);
      ctx.log(`put→served with ${large} keys, ${keys} keys`);
      const largeMs = await putToServed(client, big, 'lat-large', keys);
      return [
        ...latencyFigures('10 keys', smallMs),
        ...latencyFigures(`${large} keys`, largeMs),
        { measure: `put→served p50 ratio, ${large} / 10 keys`, value: median(largeMs) / median(smallMs), unit: 'x', goal: { op: '<=', target: 1.5 } },
        { measure: `process start → /ready, ${large} keys`, value: readyMs, unit: 'ms', goal: { op: '<=', target: 1000 } },
        { measure: `CPU used until /ready, ${large} keys`, value: readyCpuMs, unit: 'ms' },
        { measure: `RSS after load, ${large} keys`, value: rssMb, unit: 'MB', goal: { op: '<=', target: 150 } },
      ];
    });
  },
};
