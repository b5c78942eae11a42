/**
 * One outage drill for a broker output: steady traffic, the broker killed
 * (SIGKILL) mid-traffic and restarted, then the tally every broker fault test
 * asserts on: only 200 or 503, each 503 within OUTPUT_TIMEOUT_MS (+ slack),
 * 200s again once the broker is back, and no delivery answered 200 missing at
 * the destination.
 */
import assert from 'node:assert/strict';
import type { Broker } from './brokers.js';
import type { CwmProcess } from './cwm-process.js';
import { waitFor } from './ports.js';
import { startTraffic, type Outcome } from './traffic.js';

/** Scheduling slack on a 2-core machine shared with the load loops and the services. */
const SLACK_MS = 600;

export interface OutageResult {
  readonly outcomes: readonly Outcome[];
  readonly acked: readonly string[];
  readonly refused: readonly string[];
  /** From the kill until the first 200 after the restart finished, ms. */
  readonly backAfterMs: number;
}

/** What a drill stops and starts: a broker, a database, an object store, a Redis the test owns. */
export type Killable = Pick<Broker, 'kill' | 'restart'>;

export async function outage(cwm: CwmProcess, path: string, broker: Killable, timeoutMs: number, prefix: string): Promise<OutageResult> {
  return outageWith((id) => cwm.post(path, { id, at: Date.now() }, { 'x-github-delivery': id }), broker, timeoutMs, prefix);
}

/** The same drill with the test's own request (its body, its headers). */
export async function outageWith(send: (id: string) => Promise<Response>, broker: Killable, timeoutMs: number, prefix: string): Promise<OutageResult> {
  const traffic = startTraffic(send, { concurrency: 4, prefix });
  const ok = (since = 0): Outcome[] => traffic.outcomes.filter((o) => o.status === 200 && o.at >= since);
  const unavailable = (since = 0): Outcome[] => traffic.outcomes.filter((o) => o.status === 503 && o.at >= since);
  let backAfterMs = 0;
  try {
    await waitFor(() => ok().length >= 100, 20_000, '100 deliveries acknowledged');
    await broker.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => unavailable(killedAt).length >= 30, 15_000, '503s while the broker is down');
    await broker.restart();
    const restartedAt = Date.now();
    await waitFor(() => ok(restartedAt).length >= 1, 30_000, 'a 200 once the broker is back');
    backAfterMs = (ok(restartedAt)[0]?.at ?? restartedAt) - restartedAt;
    await waitFor(() => ok(restartedAt).length >= 100, 30_000, '200s once the broker is back');
  } finally {
    await traffic.stop();
  }
  const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'every answer is 200 or 503');
  const slow = unavailable().filter((o) => o.ms > timeoutMs + SLACK_MS);
  assert.deepEqual(slow.map((o) => `${o.id}:${Math.round(o.ms)}ms`), [], '503 within OUTPUT_TIMEOUT_MS');
  return { outcomes: traffic.outcomes, acked: ok().map((o) => o.id), refused: unavailable().map((o) => o.id), backAfterMs };
}

/** Asserts none acknowledged is missing; returns the report line. */
export function tally(what: string, r: OutageResult, found: ReadonlySet<string>): string {
  const lost = r.acked.filter((id) => !found.has(id));
  assert.deepEqual(lost, [], `${what}: acknowledged then lost`);
  const max503 = Math.round(Math.max(0, ...r.outcomes.filter((o) => o.status === 503).map((o) => o.ms)));
  return `${what}: sent=${r.outcomes.length} 2xx=${r.acked.length} 503=${r.refused.length} lost=${lost.length} max503ms=${max503} first200AfterRestartMs=${r.backAfterMs} atDestination=${found.size}`;
}
