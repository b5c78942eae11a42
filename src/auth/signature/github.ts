/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the secret as UTF-8. */
import { headerValue } from '../request-headers.js';
import { decodeHex, macMatches, MAX_SIGNATURES } from './mac.js';
import type { SignaturePreset } from './types.js';

const HEADER = 'x-hub-signature-256';
const PREFIX = 'sha256=';

export const github: SignaturePreset = {
  headers: ['x-hub-signature-256', 'x-hub-signature'],
  keyFrom: (secret) => Buffer.from(secret, 'utf8'),
  verify({ request, keys }) {
    const header = headerValue(request.headers, HEADER);
    if (header === undefined) return 'missing X-Hub-Signature-256 header';
    const candidates: Buffer[] = [];
    for (const part of header.split(',', MAX_SIGNATURES)) {
      const value = part.trim();
      const mac = value.startsWith(PREFIX) ? decodeHex(value.slice(PREFIX.length)) : undefined;
      if (mac) candidates.push(mac);
    }
    return macMatches('sha256', keys, [request.rawBody], candidates) ? null : 'signature does not match';
  },
};
