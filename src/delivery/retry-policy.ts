/**
 * A webhook's `retry` block in milliseconds, and the delay before each retry:
 * CWM's min(initial × multiplier^n, max), plus "equal jitter" (half fixed,
 * half random) so that deliveries failed by one outage do not all come back
 * in the same instant. CWM has no jitter.
 */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** The spool's Redis connection when it is not SPOOL_CONNECTION. */
  readonly connection?: string;
}

export interface RetryConfig {
  readonly max_attempts: number;
  readonly initial_delay: number;
  readonly max_delay: number;
  readonly backoff_multiplier: number;
  readonly connection?: string;
}

export function retryPolicy(config: RetryConfig): RetryPolicy {
  const initialDelayMs = Math.round(config.initial_delay * 1000);
  // As CWM: a max_delay below initial_delay is raised to it.
  const maxDelayMs = Math.max(initialDelayMs, Math.round(config.max_delay * 1000));
  return { maxAttempts: config.max_attempts, initialDelayMs, maxDelayMs, multiplier: config.backoff_multiplier, connection: config.connection };
}

/** Delay before the retry that follows failed attempt number `attemptsMade` (1-based). */
export function retryDelayMs(policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs' | 'multiplier'>, attemptsMade: number, random: () => number = Math.random): number {
  const base = Math.min(policy.initialDelayMs * policy.multiplier ** Math.max(0, attemptsMade - 1), policy.maxDelayMs);
  return Math.round(base / 2 + (base / 2) * random());
}
