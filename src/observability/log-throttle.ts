/**
 * Rate-limited warnings: the first occurrence of an event for a key (webhook
 * + reason) is logged in full; repeats within the interval are only counted
 * and logged as one summary line with the count when the interval ends. A
 * key that stayed quiet for a whole interval is forgotten, so its next
 * occurrence is logged in full again. Metrics keep the exact counts; this
 * only keeps an outage from writing a line per request.
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';

export interface ThrottleOptions {
  /** Name of the event in the suppressed-lines metric. */
  readonly event: string;
  readonly intervalMs: number;
  readonly suppressed?: Counter<'event'>;
  /** Distinct keys tracked at once; beyond it repeats of new keys share one overflow key. Default 10 000. */
  readonly maxKeys?: number;
}

interface KeyState {
  fields: Record<string, unknown>;
  msg: string;
  repeats: number;
}

const OVERFLOW_KEY = '\u0000overflow';

export class ThrottledLog {
  private readonly keys = new Map<string, KeyState>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxKeys: number;

  constructor(private readonly logger: Logger, private readonly options: ThrottleOptions) {
    this.maxKeys = options.maxKeys ?? 10_000;
    this.timer = setInterval(() => this.flush(), options.intervalMs);
    this.timer.unref();
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const known = this.keys.get(key);
    if (known) {
      known.repeats++;
      known.fields = fields;
      this.options.suppressed?.inc({ event: this.options.event });
      return;
    }
    if (this.keys.size >= this.maxKeys) {
      const overflow = this.keys.get(OVERFLOW_KEY) ?? { fields: {}, msg, repeats: 0 };
      overflow.repeats++;
      this.keys.set(OVERFLOW_KEY, overflow);
      this.options.suppressed?.inc({ event: this.options.event });
      return;
    }
    this.keys.set(key, { fields, msg, repeats: 0 });
    this.logger.warn(fields, msg);
  }

  /** Logs one summary per key that repeated since the last flush; forgets keys that did not. */
  flush(): void {
    for (const [key, state] of this.keys) {
      if (state.repeats === 0) {
        this.keys.delete(key);
        continue;
      }
      this.logger.warn({ ...state.fields, repeated: state.repeats, interval_ms: this.options.intervalMs }, `${state.msg} (repeats in the last interval)`);
      state.repeats = 0;
      if (key === OVERFLOW_KEY) this.keys.delete(key);
    }
  }

  /** Shutdown: the pending summaries are logged, then nothing more. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
    this.keys.clear();
  }
}
