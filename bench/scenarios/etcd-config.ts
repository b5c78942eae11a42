/**
 * Config from etcd, end to end with real processes: put→served latency (the
 * put's acknowledgement to the first 200 from cwm) with 10 and with 25 000
 * keys loaded, and startup to /ready and RSS with 25 000 keys.
 */
import type { Etcd3 } from 'etcd3';
import { gridEntries, logHookValue, putMany, securedHookValue } from '../../test/helpers/etcd-seed.js';
import { median } from '../lib/compare.js';
import { withEtcd } from '../lib/etcd-cwm.js';
import { Probe } from '../lib/probe.js';
import { startBare, withServers, type ServerProcess } from '../lib/processes.js';
import type { Figure, Scenario } from '../lib/scenario.js';

const WARMUP_KEYS = 20;
/** Pause between seeding etcd and starting cwm on it. */
const SETTLE_MS = 2000;
/** cwm starts on the 25 000 keys; the figures are their medians. */
const STARTS = 3;

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface PutToServed {
  /** Per new key: put acknowledged → first 200 for it. */
  readonly served: number[];
  /** Per new key: put acknowledged → 200 from a webhook served long before (the same steps without waiting for new config). */
  readonly baseline: number[];
  /** Per new key: put acknowledged → 200 from the bare node:http server: the machine's own floor. */
  readonly bare: number[];
  /** New keys whose very first POST already answered 200. */
  readonly firstPoll: number;
}

/**
 * Puts `count` new webhooks one by one; for each, the time from the put's
 * acknowledgement until cwm first answers 200 for it. Each is followed by
 * the same sequence aimed at a webhook served long before (put another new
 * key, then POST the old webhook) and by the same aimed at the bare
 * node:http server: one HTTP round trip to a process that was idle.
 */
async function putToServed(client: Etcd3, cwm: ServerProcess, bare: ServerProcess, namespace: string, count: number): Promise<PutToServed> {
  const probe = new Probe(cwm.baseUrl);
  const bareProbe = new Probe(bare.baseUrl);
  const result = { served: [] as number[], baseline: [] as number[], bare: [] as number[], firstPoll: 0 };
  try {
    for (let i = 0; i < WARMUP_KEYS + count; i++) {
      await client.put(`/cwm/${namespace}/webhooks/h${i}`).value(logHookValue(`${namespace}-${i}`));
      const served = await probe.untilServed(`/webhook/${namespace}/h${i}`);
      await client.put(`/cwm/${namespace}/webhooks/b${i}`).value(logHookValue(`${namespace}-b${i}`));
      const baseline = await probe.untilServed(`/webhook/${namespace}/h0`);
      await client.put(`/cwm/${namespace}/webhooks/c${i}`).value(logHookValue(`${namespace}-c${i}`));
      const bareMs = await bareProbe.untilServed('/');
      // The floor keys go again, so the loaded count stays what the figures' labels say.
      await client.delete().key(`/cwm/${namespace}/webhooks/b${i}`);
      await client.delete().key(`/cwm/${namespace}/webhooks/c${i}`);
      if (i < WARMUP_KEYS) continue;
      result.served.push(served.ms);
      result.baseline.push(baseline.ms);
      result.bare.push(bareMs.ms);
      if (served.polls === 1) result.firstPoll++;
    }
    return result;
  } finally {
    probe.close();
    bareProbe.close();
  }
}

function latencyFigures(label: string, r: PutToServed): Figure[] {
  return [
    { measure: `put→served p50, ${label}`, value: median(r.served), unit: 'ms' },
    { measure: `put→served p99, ${label}`, value: percentile(r.served, 99), unit: 'ms', goal: { op: '<=', target: 3 } },
    { measure: `put→served max, ${label}`, value: Math.max(...r.served), unit: 'ms' },
    { measure: `new keys served at the first POST, ${label}`, value: (100 * r.firstPoll) / r.served.length, unit: '%' },
    { measure: `floor: put→200 of an old webhook p50, ${label}`, value: median(r.baseline), unit: 'ms' },
    { measure: `floor: put→200 of an old webhook p99, ${label}`, value: percentile(r.baseline, 99), unit: 'ms' },
    { measure: `floor: put→200 of bare node:http p50, ${label}`, value: median(r.bare), unit: 'ms' },
    { measure: `floor: put→200 of bare node:http p99, ${label}`, value: percentile(r.bare, 99), unit: 'ms' },
    { measure: `put→served / old webhook p99, ${label}`, value: percentile(r.served, 99) / percentile(r.baseline, 99), unit: 'x' },
    { measure: `put→served / bare node:http p99, ${label}`, value: percentile(r.served, 99) / percentile(r.bare, 99), unit: 'x' },
  ];
}

export const etcdConfigScenario: Scenario = {
  name: 'etcd-config',
  description: 'real etcd + cwm (etcd backend): put→served over new keys with 10 and 25 000 keys loaded (polled on one keep-alive socket) against the same put → one POST to an old webhook and to bare node:http; process start → /ready and RSS with 25 000 keys (5000 namespaces × 5, each with authorization and rate_limit; cwm started once etcd settled 2 s after the seeding)',
  async run(ctx) {
    const keys = ctx.smoke ? 20 : 300;
    const [namespaces, perNamespace] = ctx.smoke ? [400, 5] : [5000, 5];
    const large = namespaces * perNamespace;
    return withServers([() => startBare()], ([bare]) => withEtcd(ctx, async ({ client, startCwm }) => {
      await putMany(client, gridEntries(2, 5));
      const small = await startCwm('etcd-10');
      ctx.log(`put→served with 10 keys, ${keys} keys`);
      const smallMs = await putToServed(client, small, bare, 'lat-small', keys);
      await small.stop();
      await client.delete().prefix('/cwm/lat-small/');

      ctx.log(`seeding ${large} keys`);
      // Realistic configs: each webhook carries its own authorization and rate_limit (compiled checks, not bare log webhooks).
      await putMany(client, gridEntries(namespaces, perNamespace, '/cwm/', securedHookValue));
      // etcd's own work after 25 000 puts (backend commits, snapshot) is not cwm's start: let it settle first.
      await new Promise((resolve) => setTimeout(resolve, ctx.smoke ? 0 : SETTLE_MS));
      await client.getAll().prefix('/cwm/').count();
      // One start is one sample of a noisy machine: the median of STARTS, the last one kept for put→served.
      const starts: { readyMs: number; cpuMs: number; rssMb: number }[] = [];
      let big: ServerProcess | undefined;
      const startCount = ctx.smoke ? 1 : STARTS;
      for (let i = 0; i < startCount; i++) {
        await big?.stop();
        big = await startCwm(`etcd-${large}-${i}`, 60_000);
        starts.push({ readyMs: big.readyMs, cpuMs: big.cpuSeconds() * 1000, rssMb: big.rssBytes() / (1024 * 1024) });
      }
      if (!big) throw new Error('no start');
      ctx.log(`starts with ${large} keys: ${starts.map((s) => `${s.readyMs.toFixed(0)} ms ${s.rssMb.toFixed(1)} MB`).join(', ')}`);
      const readyMs = median(starts.map((s) => s.readyMs));
      const readyCpuMs = median(starts.map((s) => s.cpuMs));
      const rssMb = median(starts.map((s) => s.rssMb));
      ctx.log(`put→served with ${large} keys, ${keys} keys`);
      const largeMs = await putToServed(client, big, bare, 'lat-large', keys);
      return [
        ...latencyFigures('10 keys', smallMs),
        ...latencyFigures(`${large} keys`, largeMs),
        { measure: `put→served p50 ratio, ${large} / 10 keys`, value: median(largeMs.served) / median(smallMs.served), unit: 'x', goal: { op: '<=', target: 1.5 } },
        { measure: `process start → /ready, ${large} keys (median of ${startCount} starts)`, value: readyMs, unit: 'ms', goal: { op: '<=', target: 1000 } },
        { measure: `CPU used until /ready, ${large} keys (median of ${startCount})`, value: readyCpuMs, unit: 'ms' },
        { measure: `RSS after load, ${large} keys (median of ${startCount})`, value: rssMb, unit: 'MB', goal: { op: '<=', target: 150 } },
      ];
    }));
  },
};
