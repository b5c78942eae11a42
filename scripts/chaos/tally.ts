/**
 * Counts one run: what the sender sent and was told, against what was found
 * at the destination. Lost = answered 2xx but not found. A duplicate (an id
 * found more than once) is only acceptable when the sender sent that id more
 * than once.
 */
import { acknowledged, type DeliveryRecord } from './sender.js';
import { percentile } from './timeline.js';

export interface Tally {
  readonly label: string;
  readonly deliveries: number;
  readonly attempts: number;
  /** Deliveries with a 2xx answer. */
  readonly acked: number;
  /** Attempts answered 503. */
  readonly answered503: number;
  /** Attempts without an answer (refused, reset). */
  readonly connErrors: number;
  /** Attempts answered with any other status (e.g. 404 before a new webhook was applied). */
  readonly otherStatus: number;
  /** Deliveries sent more than once. */
  readonly retried: number;
  /** Deliveries whose every attempt failed (the sender gave up: never acknowledged, so not lost). */
  readonly gaveUp: number;
  /** Distinct delivery ids found at the destination. */
  readonly found: number;
  /** Found although the sender was never told 2xx (e.g. written, then timed out). */
  readonly foundUnacked: number;
  readonly lost: number;
  /** Extra copies at the destination. */
  readonly duplicates: number;
  /** Extra copies of ids the sender sent only once: never acceptable. */
  readonly duplicatesWithoutRetry: number;
  /** Up to 5 lost ids, for the report. */
  readonly lostSample: readonly string[];
}

export function tally(label: string, deliveries: readonly DeliveryRecord[], found: ReadonlyMap<string, number>): Tally {
  let attempts = 0, acked = 0, answered503 = 0, connErrors = 0, otherStatus = 0, retried = 0, gaveUp = 0;
  let foundCount = 0, foundUnacked = 0, duplicates = 0, duplicatesWithoutRetry = 0;
  const lost: string[] = [];
  for (const d of deliveries) {
    attempts += d.attempts.length;
    for (const a of d.attempts) {
      if (a.status === 503) answered503++;
      else if (a.status === 0) connErrors++;
      else if (a.status < 200 || a.status >= 300) otherStatus++;
    }
    if (d.attempts.length > 1) retried++;
    const ok = acknowledged(d);
    const copies = found.get(d.id) ?? 0;
    if (ok) acked++;
    const last = d.attempts[d.attempts.length - 1];
    if (!ok && last !== undefined && (last.status === 503 || last.status === 0)) gaveUp++;
    if (copies > 0) foundCount++;
    if (copies > 0 && !ok) foundUnacked++;
    if (ok && copies === 0) lost.push(d.id);
    if (copies > 1) {
      duplicates += copies - 1;
      if (d.attempts.length === 1) duplicatesWithoutRetry += copies - 1;
    }
  }
  return { label, deliveries: deliveries.length, attempts, acked, answered503, connErrors, otherStatus, retried, gaveUp, found: foundCount, foundUnacked, lost: lost.length, duplicates, duplicatesWithoutRetry, lostSample: lost.slice(0, 5) };
}

export function passed(t: Tally, atLeastOnce = false): boolean {
  return t.lost === 0 && (atLeastOnce || t.duplicatesWithoutRetry === 0);
}

/** Counts occurrences of each id. */
export function countIds(ids: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** How fast attempts answered `status` came back, e.g. "median 12 ms, p99 640 ms, slowest 980 ms (4321 answers)". */
export function answerTimes(deliveries: readonly DeliveryRecord[], status: number): string {
  const ms: number[] = [];
  for (const d of deliveries) for (const a of d.attempts) if (a.status === status) ms.push(a.ms);
  if (ms.length === 0) return `no ${status} answers`;
  const r = (p: number): number => Math.round(percentile(ms, p));
  return `${status} answered in median ${r(50)} ms, p99 ${r(99)} ms, slowest ${r(100)} ms (${ms.length} answers)`;
}
