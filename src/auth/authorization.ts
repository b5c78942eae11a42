/** `authorization`: the Authorization header must equal the configured value exactly (e.g. "Bearer x"). */
import { digestOf, matchesDigest } from './constant-time.js';
import { headerValue } from './request-headers.js';
import { unauthorized } from './rejections.js';
import type { RequestCheck } from './types.js';

export function authorizationCheck(expected: string): RequestCheck {
  const digest = digestOf(expected);
  const rejection = unauthorized('missing or invalid Authorization header');
  return {
    name: 'authorization',
    phase: 'headers',
    run: (req) => (matchesDigest(digest, headerValue(req.headers, 'authorization')) ? null : rejection),
  };
}
