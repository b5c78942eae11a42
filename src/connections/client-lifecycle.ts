/**
 * What every connection client shares: counting in-flight work, the objects
 * derived from the client, and closing both once that work has settled.
 */
import type { Closable } from './types.js';

export class ClientLifecycle {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly derived = new Map<string, Closable>();
  private closed = false;

  async use<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await work();
    } finally {
      if (--this.inFlight === 0) {
        for (const wake of this.idleWaiters.splice(0)) wake();
      }
    }
  }

  shared<T extends Closable>(key: string, create: () => T): T {
    if (this.closed) throw new Error('connection client is closed');
    let value = this.derived.get(key);
    if (!value) {
      value = create();
      this.derived.set(key, value);
    }
    return value as T;
  }

  /** Waits for in-flight work (at most `drainMs`, so a hung broker cannot block forever), then closes derived objects and the client. */
  async close(drainMs: number, closeClient: () => Promise<void>): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(timer);
    }
    await Promise.allSettled([...this.derived.values()].map((d) => d.close()));
    this.derived.clear();
    await closeClient();
  }
}
