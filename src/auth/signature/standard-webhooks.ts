/**
 * Standard Webhooks (standardwebhooks.com, also Svix): `webhook-signature` is a
 * space-separated list of `v1,<base64 HMAC-SHA256>` over
 * "<webhook-id>.<webhook-timestamp>.<raw body>", keyed with the base64 part of
 * the `whsec_...` secret, decoded. Timestamps too old and too far in the future
 * are both refused.
 */
import { ConfigError } from '../../errors.js';
import { headerValue } from '../request-headers.js';
import { decodeBase64, judgeTimestamp, macMatches, MAX_SIGNATURES, timestampProblem } from './mac.js';
import type { SignaturePreset } from './types.js';

const SECRET_PREFIX = 'whsec_';

export const standardWebhooks: SignaturePreset = {
  headers: ['webhook-signature', 'svix-signature'],
  keyFrom(secret) {
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    const key = decodeBase64(encoded);
    if (!key) throw new ConfigError('/secret', 'a standard-webhooks secret must be "whsec_" followed by base64');
    return key;
  },
  verify({ request, keys, nowMs, toleranceSeconds }) {
    const id = headerValue(request.headers, 'webhook-id');
    const timestamp = headerValue(request.headers, 'webhook-timestamp');
    const header = headerValue(request.headers, 'webhook-signature');
    if (id === undefined || id === '') return 'missing webhook-id header';
    if (header === undefined) return 'missing webhook-signature header';
    const problem = timestampProblem(judgeTimestamp(timestamp, nowMs, toleranceSeconds), 'webhook-timestamp');
    if (problem) return problem;
    const candidates: Buffer[] = [];
    for (const item of header.split(' ', MAX_SIGNATURES)) {
      const comma = item.indexOf(',');
      if (comma === -1 || item.slice(0, comma) !== 'v1') continue;
      const mac = decodeBase64(item.slice(comma + 1));
      if (mac) candidates.push(mac);
    }
    return macMatches('sha256', keys, [`${id}.${timestamp as string}.`, request.rawBody], candidates) ? null : 'signature does not match';
  },
};
