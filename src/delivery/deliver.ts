/**
 * Hands one delivery to a webhook's bound outputs and resolves only when every
 * one acknowledged (DESIGN §4); a failure or OUTPUT_TIMEOUT_MS rejects, which
 * the HTTP layer answers with 503 + Retry-After.
 */
import type { BoundOutput } from '../outputs/types.js';
import { retryDelayMs, type RetryPolicy } from './retry-policy.js';
import type { DeliveryTimeouts } from './timeouts.js';
import type { Delivery } from './types.js';

export interface NamedOutput {
  readonly module: string;
  readonly output: BoundOutput;
  /** A chain entry's own `retry`: attempts again in process, inside the deadline. */
  readonly retry?: RetryPolicy;
}

/** How a webhook's outputs run (CWM's `chain-config`). */
export interface Execution {
  readonly mode: 'sequential' | 'parallel';
  /**
   * Later steps still run after one failed. The answer is still 503 when any
   * step failed: a 2xx always means every output acknowledged.
   */
  readonly continueOnError: boolean;
  /** CWM's chain `timeout`, when it is shorter than OUTPUT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** The webhook's `retry` when there is no spool: every output is attempted again in process, inside the deadline. */
  readonly retry?: RetryPolicy;
}

export const SEQUENTIAL: Execution = Object.freeze({ mode: 'sequential', continueOnError: false });

export class DeliveryError extends Error {
  constructor(readonly module: string, readonly reason: 'failed' | 'timeout', cause?: unknown) {
    super(`output ${module} ${reason === 'timeout' ? 'timed out' : 'failed'}`, { cause });
  }
}

/** Resolves after `ms`, or at once when the deadline passes meanwhile. */
function pauseUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function sendOne(target: NamedOutput, delivery: Delivery, signal: AbortSignal, fallbackRetry: RetryPolicy | undefined): Promise<void> {
  const retry = target.retry ?? fallbackRetry;
  const attempts = retry?.maxAttempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    try {
      await target.output.send(delivery, signal);
      return;
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      if (signal.aborted || attempt >= attempts || !retry) throw new DeliveryError(target.module, signal.aborted ? 'timeout' : 'failed', err);
    }
    await pauseUnlessAborted(retryDelayMs(retry, attempt), signal);
    if (signal.aborted) throw new DeliveryError(target.module, 'timeout');
  }
}

async function sendAll(outputs: readonly NamedOutput[], execution: Execution, delivery: Delivery, signal: AbortSignal): Promise<void> {
  const retry = execution.retry;
  if (outputs.length === 1) return sendOne(outputs[0] as NamedOutput, delivery, signal, retry);
  if (execution.mode === 'parallel') {
    if (!execution.continueOnError) {
      await Promise.all(outputs.map((o) => sendOne(o, delivery, signal, retry)));
      return;
    }
    const settled = await Promise.allSettled(outputs.map((o) => sendOne(o, delivery, signal, retry)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return;
  }
  let firstError: unknown;
  for (const o of outputs) {
    // Past the deadline the sender already has its 503: no later step of the chain may start.
    if (signal.aborted) throw firstError ?? new DeliveryError(o.module, 'timeout');
    try {
      await sendOne(o, delivery, signal, retry);
    } catch (err) {
      if (!execution.continueOnError) throw err;
      firstError ??= err;
    }
  }
  if (firstError !== undefined) throw firstError;
}

export function deliver(outputs: readonly NamedOutput[], execution: Execution, delivery: Delivery, timeouts: DeliveryTimeouts): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const label = (): string => outputs.map((o) => o.module).join('+');
    const onTimeout = (): void => reject(new DeliveryError(label(), 'timeout'));
    const deadline = timeouts.track(onTimeout);
    // CWM's chain timeout: only ever shorter than OUTPUT_TIMEOUT_MS, which bounds every delivery.
    let chainTimer: NodeJS.Timeout | undefined;
    let signal = deadline.signal;
    if (execution.timeoutMs !== undefined) {
      const controller = new AbortController();
      chainTimer = setTimeout(() => {
        controller.abort();
        reject(new DeliveryError(label(), 'timeout'));
      }, execution.timeoutMs);
      signal = AbortSignal.any([deadline.signal, controller.signal]);
    }
    const finish = (): void => {
      deadline.release(onTimeout);
      if (chainTimer) clearTimeout(chainTimer);
    };
    sendAll(outputs, execution, delivery, signal).then(
      () => {
        finish();
        resolve();
      },
      (err: unknown) => {
        finish();
        reject(err);
      },
    );
  });
}
