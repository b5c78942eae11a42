/**
 * CWM's `/stats` counts: per webhook, accepted requests in total and in
 * calendar-aligned windows — the current minute, the last 5/15/30/60 minute
 * buckets, 24 hour buckets, 7 and 30 day buckets (CWM's names and bucket
 * sizes). Kept in this process's memory: 114 counters per webhook that got
 * traffic, no Redis round trip on the request path (CWM's Lua script was one).
 */

interface Ring {
  readonly stamps: Float64Array;
  readonly counts: Float64Array;
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

function ring(size: number): Ring {
  return { stamps: new Float64Array(size).fill(-1), counts: new Float64Array(size) };
}

function add(r: Ring, bucketSeconds: number, nowSeconds: number): void {
  const bucket = Math.floor(nowSeconds / bucketSeconds);
  const i = bucket % r.stamps.length;
  if (r.stamps[i] !== bucket) {
    r.stamps[i] = bucket;
    r.counts[i] = 0;
  }
  r.counts[i] = (r.counts[i] ?? 0) + 1;
}

/** Sum of the current bucket and the `n - 1` before it. */
function sumLast(r: Ring, bucketSeconds: number, nowSeconds: number, n: number): number {
  const current = Math.floor(nowSeconds / bucketSeconds);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const bucket = current - k;
    const i = bucket % r.stamps.length;
    if (r.stamps[i] === bucket) sum += r.counts[i] ?? 0;
  }
  return sum;
}

interface Counter {
  total: number;
  readonly minutes: Ring;
  readonly hours: Ring;
  readonly days: Ring;
}

export interface WebhookStats {
  readonly total: number;
  readonly minute: number;
  readonly '5_minutes': number;
  readonly '15_minutes': number;
  readonly '30_minutes': number;
  readonly hour: number;
  readonly day: number;
  readonly week: number;
  readonly month: number;
}

export class RequestStats {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly defaultNamespace: string,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** CWM's key: the bare id in the default namespace (its `/webhook/<id>` route), `namespace/id` elsewhere. */
  private key(namespace: string, id: string): string {
    return namespace === this.defaultNamespace ? id : `${namespace}/${id}`;
  }

  increment(namespace: string, id: string): void {
    const key = this.key(namespace, id);
    let c = this.counters.get(key);
    if (!c) {
      c = { total: 0, minutes: ring(60), hours: ring(24), days: ring(30) };
      this.counters.set(key, c);
    }
    const now = this.now();
    c.total++;
    add(c.minutes, MINUTE, now);
    add(c.hours, HOUR, now);
    add(c.days, DAY, now);
  }

  /** `{ "<key>": { total, minute, 5_minutes, ... } }`, keys sorted (fromEntries: a webhook named `__proto__` is an own key). */
  snapshot(): Record<string, WebhookStats> {
    const now = this.now();
    const out = new Map<string, WebhookStats>();
    for (const key of [...this.counters.keys()].sort()) {
      const c = this.counters.get(key) as Counter;
      out.set(key, {
        total: c.total,
        minute: sumLast(c.minutes, MINUTE, now, 1),
        '5_minutes': sumLast(c.minutes, MINUTE, now, 5),
        '15_minutes': sumLast(c.minutes, MINUTE, now, 15),
        '30_minutes': sumLast(c.minutes, MINUTE, now, 30),
        hour: sumLast(c.minutes, MINUTE, now, 60),
        day: sumLast(c.hours, HOUR, now, 24),
        week: sumLast(c.days, DAY, now, 7),
        month: sumLast(c.days, DAY, now, 30),
      });
    }
    return Object.fromEntries(out);
  }
}
