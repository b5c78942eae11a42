/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` where each v1 is
 * HMAC-SHA256(endpoint secret used as a plain string, "<t>.<raw body>").
 * Several v1 entries appear while Stripe rolls a secret; any may match.
 * Other schemes (v0 test signatures) are ignored.
 */
import { headerValue } from '../request-headers.js';
import { decodeHex, judgeTimestamp, macMatches, MAX_SIGNATURES, timestampProblem } from './mac.js';
import type { SignaturePreset } from './types.js';

export const stripe: SignaturePreset = {
  headers: ['stripe-signature'],
  keyFrom: (secret) => Buffer.from(secret, 'utf8'),
  verify({ request, keys, nowMs, toleranceSeconds }) {
    const header = headerValue(request.headers, 'stripe-signature');
    if (header === undefined) return 'missing Stripe-Signature header';
    let timestamp: string | undefined;
    const candidates: Buffer[] = [];
    for (const item of header.split(',', 2 * MAX_SIGNATURES)) {
      const eq = item.indexOf('=');
      if (eq === -1) continue;
      const key = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      if (key === 't' && timestamp === undefined) timestamp = value;
      else if (key === 'v1') {
        const mac = decodeHex(value);
        if (mac) candidates.push(mac);
      }
    }
    const problem = timestampProblem(judgeTimestamp(timestamp, nowMs, toleranceSeconds), 'Stripe-Signature timestamp');
    if (problem) return problem;
    if (candidates.length === 0) return 'Stripe-Signature has no v1 signature';
    return macMatches('sha256', keys, [`${timestamp as string}.`, request.rawBody], candidates) ? null : 'signature does not match';
  },
};
