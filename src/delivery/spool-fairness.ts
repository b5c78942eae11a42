/**
 * Per-webhook slots inside one instance's spool worker: a webhook runs at most
 * SPOOL_WEBHOOK_CONCURRENCY attempts at once, so a destination that hangs
 * until OUTPUT_TIMEOUT_MS holds that many of the SPOOL_CONCURRENCY worker
 * slots and no more. BullMQ's open-source worker takes jobs in arrival order
 * from one queue (per-group concurrency is BullMQ Pro), so the cap lives here.
 *
 * A job over its webhook's cap first waits a short while for one of the
 * webhook's own slots (a fast destination frees one within milliseconds, so a
 * single busy webhook keeps its throughput and nothing churns); if none frees
 * in time the caller moves the job back to BullMQ's delayed set, which frees
 * the worker slot for other webhooks' jobs. That bounds the churn of a hung
 * webhook to (concurrency − cap) deferrals per FAIR_WAIT_MS.
 */

/** How long an over-cap attempt waits for its webhook's slot before it gives the worker slot up (a local Redis attempt takes ~1 ms). */
export const FAIR_WAIT_MS = 100;
/** A deferred job comes back after this long plus up to as much again (jitter), behind what arrived meanwhile. */
export const FAIR_DEFER_MS = 500;

export type Release = () => void;

export function deferDelayMs(random: () => number = Math.random): number {
  return Math.round(FAIR_DEFER_MS * (1 + random()));
}

interface Waiter {
  readonly grant: (release: Release) => void;
}

export class WebhookSlots {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 1) throw new Error(`a webhook slot cap is a whole number ≥ 1, got ${cap}`);
  }

  /** Attempts of `key` running now (for tests and the log). */
  inUse(key: string): number {
    return this.running.get(key) ?? 0;
  }

  /** A slot of `key` at once or within `waitMs`, or undefined: then the attempt must not run now. */
  acquire(key: string, waitMs: number): Promise<Release | undefined> {
    if (this.inUse(key) < this.cap) return Promise.resolve(this.take(key));
    return new Promise((resolve) => {
      const queue = this.waiting.get(key) ?? [];
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(() => {
        const left = (this.waiting.get(key) ?? []).filter((w) => w !== waiter);
        if (left.length > 0) this.waiting.set(key, left);
        else this.waiting.delete(key);
        resolve(undefined);
      }, waitMs);
      queue.push(waiter);
      this.waiting.set(key, queue);
    });
  }

  private take(key: string): Release {
    this.running.set(key, this.inUse(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.waiting.get(key);
      const next = queue?.shift();
      if (queue && queue.length === 0) this.waiting.delete(key);
      // The slot passes straight to a waiter of the same webhook: the count stays.
      if (next) return next.grant(this.handOver(key));
      const n = this.inUse(key) - 1;
      if (n > 0) this.running.set(key, n);
      else this.running.delete(key);
    };
  }

  private handOver(key: string): Release {
    this.running.set(key, this.inUse(key) - 1);
    return this.take(key);
  }
}
