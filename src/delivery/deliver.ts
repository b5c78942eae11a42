/**
 * Hands one delivery to a webhook's bound outputs and resolves only when every
 * one acknowledged (DESIGN §4); a failure or OUTPUT_TIMEOUT_MS rejects, which
 * the HTTP layer answers with 503 + Retry-After.
 */
import type { BoundOutput } from '../outputs/types.js';
import type { DeliveryTimeouts } from './timeouts.js';
import type { Delivery } from './types.js';

export interface NamedOutput {
  readonly module: string;
  readonly output: BoundOutput;
}

export type Execution = 'sequential' | 'parallel';

export class DeliveryError extends Error {
  constructor(readonly module: string, readonly reason: 'failed' | 'timeout', cause?: unknown) {
    super(`output ${module} ${reason === 'timeout' ? 'timed out' : 'failed'}`, { cause });
  }
}

async function sendOne(target: NamedOutput, delivery: Delivery, signal: AbortSignal): Promise<void> {
  try {
    await target.output.send(delivery, signal);
  } catch (err) {
    throw err instanceof DeliveryError ? err : new DeliveryError(target.module, signal.aborted ? 'timeout' : 'failed', err);
  }
}

async function sendAll(outputs: readonly NamedOutput[], execution: Execution, delivery: Delivery, signal: AbortSignal): Promise<void> {
  if (outputs.length === 1) return sendOne(outputs[0] as NamedOutput, delivery, signal);
  if (execution === 'parallel') {
    await Promise.all(outputs.map((o) => sendOne(o, delivery, signal)));
    return;
  }
  for (const o of outputs) {
    // Past the deadline the sender already has its 503: no later step of the chain may start.
    if (signal.aborted) throw new DeliveryError(o.module, 'timeout');
    await sendOne(o, delivery, signal);
  }
}

export function deliver(outputs: readonly NamedOutput[], execution: Execution, delivery: Delivery, timeouts: DeliveryTimeouts): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onTimeout = (): void => reject(new DeliveryError(outputs.map((o) => o.module).join('+'), 'timeout'));
    const deadline = timeouts.track(onTimeout);
    sendAll(outputs, execution, delivery, deadline.signal).then(
      () => {
        deadline.release(onTimeout);
        resolve();
      },
      (err: unknown) => {
        deadline.release(onTimeout);
        reject(err);
      },
    );
  });
}
