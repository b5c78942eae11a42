/**
 * `s3`: one object per delivery, acknowledged when PutObject answered 2xx.
 * Key as CWM builds it: `{prefix}/{YYYY}/{MM}/{DD}/{HH}/{filename}` (UTC hour
 * of receipt), filename from `filename_pattern` with `{uuid}` and
 * `{timestamp}`. `{uuid}` is derived from the delivery id (CWM: a random
 * uuid4), so a sender's retry within the same hour overwrites the same
 * object instead of adding a second one.
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { s3Connection } from '../connections/s3.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError } from '../errors.js';
import { defineOutput, nothingToClose } from './types.js';

/** S3 caps user metadata at 2 KB (names + values); CWM truncates each value to 1024. */
const METADATA_BUDGET = 2048;
const METADATA_VALUE_MAX = 1024;

/** CWM's forbidden sequences in prefix and filename_pattern (s3.py). */
const PREFIX_FORBIDDEN = ['..', '//', '--'];
const PATTERN_FORBIDDEN = ['..', '--'];

function checkPrefix(raw: string): string {
  // CWM refuses a leading or trailing "/" (its docs write "webhooks/"); cwm drops it instead.
  const prefix = raw.replace(/^\/+|\/+$/g, '');
  const bad = PREFIX_FORBIDDEN.find((s) => prefix.includes(s));
  if (prefix === '' || bad !== undefined) throw new ConfigError('/module-config/prefix', bad ? `must not contain "${bad}"` : 'must not be empty');
  return prefix;
}

function checkPattern(pattern: string): void {
  const bad = PATTERN_FORBIDDEN.find((s) => pattern.includes(s));
  if (bad !== undefined) throw new ConfigError('/module-config/filename_pattern', `must not contain "${bad}"`);
  const rest = pattern.replace(/\{uuid\}|\{timestamp\}/g, '');
  if (!/^[a-zA-Z0-9_.-]*$/.test(rest)) throw new ConfigError('/module-config/filename_pattern', 'may hold only letters, digits, "_", "-", "." besides {uuid} and {timestamp}');
}

/** A UUID-shaped name derived from the delivery id: the same id gives the same name. */
export function deliveryUuid(deliveryId: string): string {
  const h = createHash('sha256').update(deliveryId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Python's utcnow().isoformat() with ":" → "-" (CWM's {timestamp}): microseconds, no zone. */
export function cwmTimestamp(receivedAt: number): string {
  return `${new Date(receivedAt).toISOString().slice(0, 23).replace(/:/g, '-')}000`;
}

/** CWM's key: prefix, UTC hour folders, then the filename. */
export function objectKey(prefix: string, pattern: string, delivery: Delivery): string {
  const at = new Date(delivery.receivedAt);
  const timestamp = cwmTimestamp(delivery.receivedAt);
  const filename = pattern.replace(/\{uuid\}/g, () => deliveryUuid(delivery.id)).replace(/\{timestamp\}/g, timestamp);
  return `${prefix}/${at.getUTCFullYear()}/${two(at.getUTCMonth() + 1)}/${two(at.getUTCDate())}/${two(at.getUTCHours())}/${filename}`;
}

/** CWM's metadata: header name lower-cased, "-" → "_", value cut at 1024; only what fits S3's 2 KB and HTTP header bytes. */
function metadataOf(delivery: Delivery, withHeaders: boolean): Record<string, string> {
  const meta: Record<string, string> = Object.create(null) as Record<string, string>;
  meta.cwm_delivery_id = delivery.id;
  let budget = METADATA_BUDGET - 'cwm_delivery_id'.length - delivery.id.length;
  if (!withHeaders) return meta;
  for (const [name, value] of Object.entries(delivery.headers)) {
    const key = name.toLowerCase().replace(/-/g, '_');
    const v = value.slice(0, METADATA_VALUE_MAX);
    // x-amz-meta-* travel as HTTP headers: printable ASCII only.
    if (key === 'cwm_delivery_id' || !/^[\x20-\x7e]*$/.test(v) || !/^[a-z0-9_.]+$/.test(key)) continue;
    if (key.length + v.length > budget) continue;
    budget -= key.length + v.length;
    meta[key] = v;
  }
  return meta;
}

/** CWM: JSON payloads pretty-printed with indent 2; blob webhooks store the bytes as received (CWM stored a Python repr). */
function bodyOf(delivery: Delivery): Buffer {
  return Buffer.isBuffer(delivery.payload) ? delivery.payload : Buffer.from(JSON.stringify(delivery.payload, null, 2));
}

export const s3Output = defineOutput({
  name: 's3',
  connectionTypes: [s3Connection],
  schema: Type.Object(
    {
      bucket: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }),
      prefix: Type.String({ maxLength: 255, pattern: '^[a-zA-Z0-9_/-]+$', default: 'webhooks' }),
      filename_pattern: Type.String({ minLength: 1, maxLength: 255, default: 'webhook_{uuid}.json' }),
      content_type: Type.String({ minLength: 1, pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$', default: 'application/json' }),
      include_headers: Type.Boolean({ default: false }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    const prefix = checkPrefix(cfg.prefix);
    checkPattern(cfg.filename_pattern);
    return {
      async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
        const conn = await ctx.connections.ready(name, s3Connection);
        const input = { Bucket: cfg.bucket, Key: objectKey(prefix, cfg.filename_pattern, delivery), Body: bodyOf(delivery), ContentType: cfg.content_type, Metadata: metadataOf(delivery, cfg.include_headers) };
        await conn.use(() => conn.client.put(input, signal));
      },
      close: nothingToClose,
    };
  },
});
