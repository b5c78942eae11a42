/**
 * OUTPUT_TIMEOUT_MS for deliveries in flight without one timer and one
 * AbortController per request (together they cost about as much as a whole
 * log delivery): deliveries that start within the same short window share
 * one of each. A delivery therefore times out between timeoutMs and
 * timeoutMs + windowMs after it started, never earlier.
 */
import { setMaxListeners } from 'node:events';

/** One delivery's hold on its window: the signal its outputs get, and how it leaves when done. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** The delivery finished (either way): its timeout callback will not run. */
  release(onTimeout: () => void): void;
}

class Window implements Deadline {
  private readonly controller = new AbortController();
  private readonly pending = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly opened: number, expiresInMs: number) {
    // Shared by design: every output send of the window may listen (undici, the SQL batcher). Past Node's default
    // of 10 each window printed a MaxListenersExceededWarning with a stack to stderr, synchronously: 4 % of cwm's
    // CPU under a postgresql webhook's load (bench/profile-summary.ts on a --cpu-prof profile).
    setMaxListeners(0, this.controller.signal);
    // Keeps the process alive only while a delivery is in it (ref/unref are cheap flag flips).
    this.timer = setTimeout(() => this.expire(), expiresInMs).unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  join(onTimeout: () => void): this {
    if (this.pending.size === 0) this.timer.ref();
    this.pending.add(onTimeout);
    return this;
  }

  release(onTimeout: () => void): void {
    if (this.pending.delete(onTimeout) && this.pending.size === 0) this.timer.unref();
  }

  private expire(): void {
    if (this.pending.size === 0) return;
    // Abort first, then report the timeouts: the timeout is what the caller sees, not the aborted send.
    this.controller.abort();
    for (const onTimeout of this.pending) onTimeout();
    this.pending.clear();
  }
}

export class DeliveryTimeouts {
  /** At most 2% of the timeout (and at most 10 ms) late. */
  readonly windowMs: number;
  private current: Window | undefined;

  constructor(readonly timeoutMs: number) {
    this.windowMs = Math.max(1, Math.min(10, Math.floor(timeoutMs / 50)));
  }

  /** Starts timing one delivery: `onTimeout` runs once if it has not been released in time. */
  track(onTimeout: () => void): Deadline {
    const now = performance.now();
    let window = this.current;
    if (window === undefined || now - window.opened >= this.windowMs) {
      window = new Window(now, this.timeoutMs + this.windowMs);
      this.current = window;
    }
    return window.join(onTimeout);
  }
}
