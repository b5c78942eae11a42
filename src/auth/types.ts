/**
 * A check compiled once per webhook config and run per request. Header
 * checks run before the body is read; body checks see the raw bytes.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface RequestView {
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
  /** The peer address, or the X-Forwarded-For client when the peer is a trusted proxy. */
  readonly clientIp: string;
  readonly namespace: string;
  readonly webhookId: string;
  /** Empty until the body has been read. */
  readonly rawBody: Buffer;
}

export interface Rejection {
  readonly status: number;
  readonly error: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type CheckResult = Rejection | null;

export interface RequestCheck {
  readonly name: string;
  readonly phase: 'headers' | 'body';
  run(req: RequestView): CheckResult | Promise<CheckResult>;
}

/**
 * Outcome of claiming a sender's delivery id before delivering. Only a
 * committed claim makes later copies duplicates: a released one (delivery
 * failed, 503) lets the sender's retry through.
 */
export type DedupeClaim =
  | { readonly kind: 'new'; commit(): Promise<void>; release(): Promise<void> }
  | { readonly kind: 'duplicate' }
  /** Another request with this id is being delivered right now. */
  | { readonly kind: 'busy' }
  | { readonly kind: 'unavailable' };

export interface DeliveryDedupe {
  claim(deliveryId: string): Promise<DedupeClaim>;
}
