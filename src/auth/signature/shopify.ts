/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`, keyed with the app's client secret as UTF-8. */
import { headerValue } from '../request-headers.js';
import { decodeBase64, macMatches, MAX_SIGNATURES } from './mac.js';
import type { SignaturePreset } from './types.js';

export const shopify: SignaturePreset = {
  headers: ['x-shopify-hmac-sha256'],
  keyFrom: (secret) => Buffer.from(secret, 'utf8'),
  verify({ request, keys }) {
    const header = headerValue(request.headers, 'x-shopify-hmac-sha256');
    if (header === undefined) return 'missing X-Shopify-Hmac-Sha256 header';
    const candidates: Buffer[] = [];
    for (const part of header.split(',', MAX_SIGNATURES)) {
      const mac = decodeBase64(part.trim());
      if (mac) candidates.push(mac);
    }
    return macMatches('sha256', keys, [request.rawBody], candidates) ? null : 'signature does not match';
  },
};
