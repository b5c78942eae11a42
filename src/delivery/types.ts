/** What one accepted request hands to its outputs. */
export interface Delivery {
  /** The sender's delivery id (X-GitHub-Delivery, webhook-id, ...) or a generated one. */
  readonly id: string;
  /** The request's X-Request-Id (the caller's or generated), for correlating log lines. */
  readonly requestId?: string;
  readonly namespace: string;
  readonly webhookId: string;
  readonly receivedAt: number;
  /** Request headers with credentials and signatures removed; lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON for `json` webhooks; the raw bytes for `blob` webhooks. */
  readonly payload: unknown;
  readonly rawBody: Buffer;
  readonly contentType: string;
}
