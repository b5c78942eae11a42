/**
 * Per-webhook slots inside one instance's spool worker: a webhook runs at most
 * SPOOL_WEBHOOK_CONCURRENCY attempts at once, so a destination that hangs
 * until OUTPUT_TIMEOUT_MS holds that many of the SPOOL_CONCURRENCY worker
 * slots and no more. BullMQ's open-source worker takes jobs in arrival order
 * from one queue (per-group concurrency is BullMQ Pro), so the cap lives here.
 *
 * The cap binds only while the webhook is slow (its last attempt, or one
 * still running, took FAIR_FAST_ATTEMPT_MS or more; a webhook not yet
 * attempted counts as slow), so a single busy webhook with a fast destination
 * still gets every slot.
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
/** An attempt quicker than this is fast: a webhook whose attempts are fast is not held to its cap. */
export const FAIR_FAST_ATTEMPT_MS = 250;
const FAST_ATTEMPT_MS = FAIR_FAST_ATTEMPT_MS;
/** A deferred job comes back after this long plus up to as much again (jitter), behind what arrived meanwhile. */
export const FAIR_DEFER_MS = 500;

export type Release = () => void;

export function deferDelayMs(random: () => number = Math.random): number {
  return Math.round(FAIR_DEFER_MS * (1 + random()));
}

interface Waiter {
  readonly grant: (release: Release) => void;
}

interface Slot {
  readonly at: number;
}

export class WebhookSlots {
  private readonly running = new Map<string, Set<Slot>>();
  private readonly waiting = new Map<string, Waiter[]>();
  /** How long each webhook's last attempt took; a webhook never attempted counts as slow. */
  private readonly lastMs = new Map<string, number>();

  constructor(readonly cap: number, private readonly now: () => number = () => performance.now()) {
    if (!Number.isInteger(cap) || cap < 1) throw new Error(`a webhook slot cap is a whole number ≥ 1, got ${cap}`);
  }

  /** Attempts of `key` running now (for tests and the log). */
  inUse(key: string): number {
    return this.running.get(key)?.size ?? 0;
  }

  /**
   * A webhook whose last attempt was fast and whose running attempts are all
   * younger than FAST_ATTEMPT_MS may go past its cap: the cap then costs a
   * single busy webhook nothing (measured: the cap alone delivered 0.61× of
   * the uncapped rate to a local Redis), and binds as soon as its destination
   * slows down.
   */
  private fast(key: string): boolean {
    const last = this.lastMs.get(key);
    if (last === undefined || last >= FAST_ATTEMPT_MS) return false;
    const t = this.now();
    for (const slot of this.running.get(key) ?? []) if (t - slot.at >= FAST_ATTEMPT_MS) return false;
    return true;
  }

  /** A slot of `key` at once or within `waitMs`, or undefined: then the attempt must not run now. */
  acquire(key: string, waitMs: number): Promise<Release | undefined> {
    if (this.inUse(key) < this.cap || this.fast(key)) return Promise.resolve(this.take(key));
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
    const slot: Slot = { at: this.now() };
    const slots = this.running.get(key) ?? new Set<Slot>();
    slots.add(slot);
    this.running.set(key, slots);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      slots.delete(slot);
      if (slots.size === 0 && this.running.get(key) === slots) this.running.delete(key);
      this.lastMs.set(key, this.now() - slot.at);
      const queue = this.waiting.get(key);
      const next = queue?.shift();
      if (queue && queue.length === 0) this.waiting.delete(key);
      // The freed slot goes straight to a waiter of the same webhook.
      if (next) next.grant(this.take(key));
    };
  }
}
