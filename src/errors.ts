/**
 * The one place cwm's own errors are made (the fastify lib/errors.js model):
 * each has a stable code, so logs, the CLI and tests tell a bad config from a
 * destination that is down from a bug in cwm.
 */

export type ErrorCode =
  /** A config value (webhook, connection, module-config, check block) the receiver cannot serve. */
  | 'CWM_CONFIG_INVALID'
  /** A destination or store that cannot take work right now: answered 503 + Retry-After. */
  | 'CWM_UNAVAILABLE';

export class CwmError extends Error {
  constructor(readonly code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CwmError';
  }
}

/**
 * A config the receiver refuses. `pointer` is the JSON pointer of the bad
 * field ("" when the reason names its own pointers, as schema errors do).
 */
export class ConfigError extends CwmError {
  /** `details`: one line per schema error, when the reason sums up several. */
  constructor(readonly pointer: string, readonly reason: string, readonly details: readonly string[] = []) {
    super('CWM_CONFIG_INVALID', pointer ? `${pointer} ${reason}` : reason);
    this.name = 'ConfigError';
  }

  /** The same error seen from an enclosing document: `/chain/0` + `/module-config/topic`. */
  under(prefix: string): ConfigError {
    return new ConfigError(`${prefix}${this.pointer}`, this.reason, this.details);
  }
}

/** Seconds a sender is asked to wait before retrying a 503: one value for every retryable answer. */
export const RETRY_AFTER_SECONDS = 5;

/** A destination, connection or store that cannot be used now; the HTTP layer answers 503 + Retry-After. */
export class UnavailableError extends CwmError {
  constructor(message: string, options?: ErrorOptions) {
    super('CWM_UNAVAILABLE', message, options);
    this.name = 'UnavailableError';
  }
}
