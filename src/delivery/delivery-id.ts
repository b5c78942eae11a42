/** The delivery id: the sender's own (so retries share it) or a generated one. */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Senders' delivery id headers, checked in order; the first present wins. */
export const DELIVERY_ID_HEADERS = ['x-github-delivery', 'webhook-id', 'svix-id', 'x-shopify-webhook-id', 'x-delivery-id'] as const;

const SAFE_ID = /^[\x21-\x7e]{1,200}$/;

export type DeliveryIdSource = (headers: IncomingHttpHeaders, payload: unknown) => string | undefined;

/** Printable ASCII without spaces, at most 200 characters: safe to echo in a header and log. */
export function isSafeId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

function safe(v: unknown): string | undefined {
  return isSafeId(v) ? v : undefined;
}

export interface DeliveryIdOptions {
  /** A configured header (e.g. dedupe.header) checked before the usual ones. */
  readonly header?: string;
  /** Take the top-level `id` of a JSON payload (Stripe's event id lives in the body). */
  readonly bodyId?: boolean;
}

let defaultSource: DeliveryIdSource | undefined;

/** Compiled once per webhook config. */
export function deliveryIdSource(options: DeliveryIdOptions = {}): DeliveryIdSource {
  // Most webhooks use the defaults: one shared function rather than one per webhook.
  if (!options.header && !options.bodyId) return (defaultSource ??= sourceFor(DELIVERY_ID_HEADERS, false));
  return sourceFor(options.header ? [options.header.toLowerCase(), ...DELIVERY_ID_HEADERS] : DELIVERY_ID_HEADERS, options.bodyId === true);
}

function sourceFor(headers: readonly string[], bodyId: boolean): DeliveryIdSource {
  return (h, payload) => {
    for (const name of headers) {
      const v = safe(h[name]);
      if (v) return v;
    }
    if (bodyId && payload !== null && typeof payload === 'object' && !Buffer.isBuffer(payload) && Object.hasOwn(payload, 'id')) {
      const v = safe((payload as { id?: unknown }).id);
      if (v) return v;
    }
    return undefined;
  };
}

/**
 * A caller's X-Request-Id is for tracing: proxies and clients reuse it across
 * different messages, so alone it never names a delivery. Combined with a
 * digest of the body it does: a retry of the same request (same id, same
 * bytes) gets the same delivery id — the same BullMQ jobId, the same dedupe
 * key — and a different body under the same X-Request-Id gets another one.
 */
export function requestDeliveryId(requestId: string, body: Buffer): string {
  const digest = createHash('sha256').update(requestId).update('\u0000').update(body).digest('hex');
  const prefix = requestId.length <= 160 ? requestId : requestId.slice(0, 160);
  return `${prefix}.${digest.slice(0, 32)}`;
}

export function newDeliveryId(): string {
  return randomUUID();
}
