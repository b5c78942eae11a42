/**
 * Exponential backoff with full jitter: the wait before retry n is uniform in
 * [0, min(max, initial · 2ⁿ)]. The jitter matters because every cwm instance
 * loses etcd at the same moment; without it they would all come back in
 * lockstep and hit the recovering cluster together.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Retries since the last reset(). */
  get attempts(): number {
    return this.attempt;
  }

  /** The wait before the next retry; the ceiling doubles with every call until reset(). */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  /** After a success the next failure starts small again. */
  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects), so stop() never waits out a backoff. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
