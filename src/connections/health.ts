/**
 * Known-down tracking for clients that have no connection state of their own
 * (HTTP APIs such as S3, request/receipt sockets): after a failure that says
 * the server cannot be reached, sends fail at once until the next trial,
 * spaced by the one reconnect policy (50 ms … 1 s), so a server that comes
 * back is used again within about a second.
 */
import type { Logger } from 'pino';
import { reconnectDelayMs } from './backoff.js';

export class ServerHealth {
  private failures = 0;
  private nextTrialAt = 0;

  constructor(private readonly logger: Logger, private readonly what: string) {}

  /** False while known down and the next trial is not due yet. */
  usable(): boolean {
    return this.failures === 0 || Date.now() >= this.nextTrialAt;
  }

  down(reason: string): void {
    if (this.failures === 0) this.logger.warn({ reason }, `${this.what} unreachable; webhooks using it answer 503 until it is back`);
    this.failures += 1;
    this.nextTrialAt = Date.now() + reconnectDelayMs(this.failures);
  }

  up(): void {
    if (this.failures > 0) this.logger.info(`${this.what} reachable again`);
    this.failures = 0;
  }
}
