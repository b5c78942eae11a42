/**
 * The one small interface every output implements: bind once per webhook
 * config change (validate module-config, resolve what can be resolved),
 * send once per delivery, close when the webhook config goes away.
 */
import type { Logger } from 'pino';
import type { Delivery } from '../delivery/types.js';
import type { ConnectionLookup } from '../connections/types.js';

export interface OutputSpec {
  readonly module: string;
  readonly moduleConfig: Readonly<Record<string, unknown>>;
  readonly connection?: string;
  /** CWM's top-level `topic`, kept for Kafka compatibility. */
  readonly topic?: string;
}

export interface OutputContext {
  /** This webhook's logger (namespace and webhook_id bound): for events of the output itself. */
  readonly logger: Logger;
  /**
   * One logger shared by every webhook, without pino's path redaction (see
   * lineLogger): for one line per delivery, which names namespace and
   * webhook_id as fields. One shared logger keeps pino's code monomorphic;
   * a child per webhook makes it slow once thousands of webhooks are hit.
   */
  readonly deliveryLogger: Logger;
  readonly connections: ConnectionLookup;
}

export interface BoundOutput {
  /** Resolves once the destination acknowledged; rejects otherwise. `signal` aborts on OUTPUT_TIMEOUT_MS. */
  send(delivery: Delivery, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * close() of an output that holds nothing of its own (its clients belong to the
 * connection registry): one shared function, not one closure per bound webhook.
 */
export async function nothingToClose(): Promise<void> {}

export interface OutputModule {
  readonly name: string;
  /** Throws OutputConfigError when module-config is invalid; the previous webhook version then stays active. */
  bind(spec: OutputSpec, ctx: OutputContext): BoundOutput;
}

export class OutputConfigError extends Error {}

/** Thrown by send() when a destination is not usable right now: answered 503 + Retry-After. */
export class OutputUnavailableError extends Error {}
