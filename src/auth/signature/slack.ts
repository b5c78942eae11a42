/**
 * Slack: `X-Slack-Signature: v0=<hex>` = HMAC-SHA256(signing secret,
 * "v0:" + X-Slack-Request-Timestamp + ":" + raw body); the timestamp must be
 * within the tolerance so a captured request cannot be replayed later.
 */
import { headerValue } from '../request-headers.js';
import { decodeHex, judgeTimestamp, macMatches, MAX_SIGNATURES, timestampProblem } from './mac.js';
import type { SignaturePreset } from './types.js';

const PREFIX = 'v0=';

export const slack: SignaturePreset = {
  headers: ['x-slack-signature'],
  keyFrom: (secret) => Buffer.from(secret, 'utf8'),
  verify({ request, keys, nowMs, toleranceSeconds }) {
    const header = headerValue(request.headers, 'x-slack-signature');
    if (header === undefined) return 'missing X-Slack-Signature header';
    const timestamp = headerValue(request.headers, 'x-slack-request-timestamp');
    const problem = timestampProblem(judgeTimestamp(timestamp, nowMs, toleranceSeconds), 'X-Slack-Request-Timestamp');
    if (problem) return problem;
    const candidates: Buffer[] = [];
    for (const part of header.split(',', MAX_SIGNATURES)) {
      const value = part.trim();
      const mac = value.startsWith(PREFIX) ? decodeHex(value.slice(PREFIX.length)) : undefined;
      if (mac) candidates.push(mac);
    }
    return macMatches('sha256', keys, [`v0:${timestamp as string}:`, request.rawBody], candidates) ? null : 'signature does not match';
  },
};
