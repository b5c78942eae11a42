/**
 * Measures several servers under the same load in interleaved rounds
 * (A, B, A, B, ...) and reports medians. Other work on a shared 2-core
 * machine drifts over seconds; interleaving puts each round's pair under
 * the same conditions, so the per-round ratios stay meaningful.
 */
import { runLoad, type LoadResult } from './load.js';
import { PAYLOAD } from './payload.js';
import type { BenchContext, Figure, Goal } from './scenario.js';
import type { ServerProcess } from './processes.js';

export const CONNECTIONS = 64;

/** A process the target's requests also cost CPU in (redis-server behind a redis_queue webhook, ...). */
export interface Backing {
  readonly label: string;
  cpuSeconds(): number;
}

export interface Target {
  readonly label: string;
  readonly server: ServerProcess;
  readonly paths: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** The request body; PAYLOAD when absent. */
  readonly body?: string;
  readonly backing?: readonly Backing[];
}

export interface Round extends LoadResult {
  /** Server CPU time (user + system) per request answered: robust to other work on the machine. */
  readonly cpuUsPerRequest: number;
  /** The same for each of the target's backing processes, in their order. */
  readonly backingCpuUsPerRequest: readonly number[];
}

export interface Measured {
  readonly target: Target;
  readonly rounds: readonly Round[];
}

function plan(ctx: BenchContext, rounds: number): { warmupS: number; roundS: number; rounds: number } {
  return ctx.smoke ? { warmupS: 1, roundS: 1, rounds: 1 } : { warmupS: 3, roundS: 4, rounds };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function compare(ctx: BenchContext, targets: readonly Target[], fullRounds = 5): Promise<Measured[]> {
  const { warmupS, roundS, rounds } = plan(ctx, fullRounds);
  const load = (t: Target, durationS: number): Promise<LoadResult> =>
    runLoad({ baseUrl: t.server.baseUrl, paths: t.paths, headers: t.headers, body: t.body ?? PAYLOAD, connections: CONNECTIONS, durationS });
  for (const t of targets) {
    ctx.log(`warmup: ${t.label}`);
    await load(t, warmupS);
  }
  const results = targets.map((target) => ({ target, rounds: [] as Round[] }));
  for (let i = 0; i < rounds; i++) {
    for (const r of results) {
      ctx.log(`round ${i + 1}/${rounds}: ${r.target.label}`);
      const measured = [r.target.server, ...(r.target.backing ?? [])];
      const cpuBefore = measured.map((p) => p.cpuSeconds());
      const result = await load(r.target, roundS);
      const [cpuUsPerRequest = NaN, ...backingCpuUsPerRequest] = measured.map((p, j) => ((p.cpuSeconds() - (cpuBefore[j] as number)) * 1e6) / Math.max(1, result.requests));
      r.rounds.push({ ...result, cpuUsPerRequest, backingCpuUsPerRequest });
    }
  }
  return results;
}

/** Median throughput, p50, p99, CPU per request (the server's and each backing process's) and the total of failed requests over all rounds. */
export function loadFigures(m: Measured): Figure[] {
  const label = m.target.label;
  return [
    { measure: `${label} throughput`, value: Math.round(median(m.rounds.map((r) => r.rps))), unit: 'req/s' },
    { measure: `${label} p50`, value: median(m.rounds.map((r) => r.p50Ms)), unit: 'ms' },
    { measure: `${label} p99`, value: median(m.rounds.map((r) => r.p99Ms)), unit: 'ms' },
    { measure: `${label} CPU per request`, value: median(m.rounds.map((r) => r.cpuUsPerRequest)), unit: 'us' },
    ...(m.target.backing ?? []).map((b, j) => ({ measure: `${label}: ${b.label} CPU per request`, value: median(m.rounds.map((r) => r.backingCpuUsPerRequest[j] as number)), unit: 'us' })),
    { measure: `${label} failed requests`, value: m.rounds.reduce((n, r) => n + r.socketErrors + r.badStatus, 0), unit: 'count', goal: { op: '<=', target: 0 } },
  ];
}

/** Median over rounds of the per-round ratios of `m` to `base`. */
export function ratioFigures(m: Measured, base: Measured, goals: { throughput?: Goal; p99?: Goal } = {}): Figure[] {
  const pairs = m.rounds.map((r, i) => [r, base.rounds[i] as Round] as const);
  const name = `${m.target.label} / ${base.target.label}`;
  return [
    { measure: `${name} throughput`, value: median(pairs.map(([a, b]) => a.rps / b.rps)), unit: 'x', goal: goals.throughput },
    { measure: `${name} p99`, value: median(pairs.map(([a, b]) => a.p99Ms / b.p99Ms)), unit: 'x', goal: goals.p99 },
    { measure: `${name} CPU per request`, value: median(pairs.map(([a, b]) => a.cpuUsPerRequest / b.cpuUsPerRequest)), unit: 'x' },
  ];
}
