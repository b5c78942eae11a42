/** The JSON shape queue jobs and published messages carry, shared so consumers see one format. */
import type { Delivery } from '../delivery/types.js';

export interface Envelope {
  /** Parsed JSON; for `blob` webhooks the raw bytes as base64 (meta.encoding says so). */
  readonly payload: unknown;
  readonly headers: Readonly<Record<string, string>>;
  readonly meta: {
    readonly delivery_id: string;
    readonly namespace: string;
    readonly webhook_id: string;
    readonly received_at: string;
    readonly content_type: string;
    readonly encoding: 'json' | 'base64';
  };
}

/** JSON cannot carry bytes: blob payloads travel as base64. */
export function jsonSafePayload(delivery: Delivery): unknown {
  return Buffer.isBuffer(delivery.payload) ? delivery.payload.toString('base64') : delivery.payload;
}

export function envelope(delivery: Delivery, withHeaders: boolean): Envelope {
  return {
    payload: jsonSafePayload(delivery),
    headers: withHeaders ? delivery.headers : {},
    meta: {
      delivery_id: delivery.id,
      namespace: delivery.namespace,
      webhook_id: delivery.webhookId,
      received_at: new Date(delivery.receivedAt).toISOString(),
      content_type: delivery.contentType,
      encoding: Buffer.isBuffer(delivery.payload) ? 'base64' : 'json',
    },
  };
}
