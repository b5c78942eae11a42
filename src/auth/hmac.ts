/** `hmac` (CWM's generic scheme): `<prefix><hex|base64 HMAC of the raw body>` in a configured header. */
import { unauthorized } from './rejections.js';
import { headerValue } from './request-headers.js';
import { decodeBase64, decodeHex, macMatches, type MacAlgorithm } from './signature/mac.js';
import type { RequestCheck } from './types.js';

export interface HmacOptions {
  readonly secrets: readonly string[];
  readonly header: string;
  readonly algorithm: MacAlgorithm;
  readonly encoding: 'hex' | 'base64';
  readonly prefix: string;
}

export function hmacCheck(options: HmacOptions): RequestCheck {
  const keys = options.secrets.map((s) => Buffer.from(s, 'utf8'));
  const name = options.header.toLowerCase();
  const decode = options.encoding === 'hex' ? decodeHex : decodeBase64;
  const missing = unauthorized(`missing ${options.header} header`);
  const mismatch = unauthorized('signature does not match');
  return {
    name: 'hmac',
    phase: 'body',
    run(req) {
      const value = headerValue(req.headers, name);
      if (value === undefined) return missing;
      const trimmed = value.trim();
      // Hex digests are case-insensitive; the prefix is matched as configured.
      const mac = trimmed.startsWith(options.prefix) ? decode(trimmed.slice(options.prefix.length)) : undefined;
      return mac && macMatches(options.algorithm, keys, [req.rawBody], [mac]) ? null : mismatch;
    },
  };
}
