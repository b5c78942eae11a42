/** `header_auth` and `query_auth`: a static API key in a named header or query parameter. */
import { digestOf, matchesDigest } from './constant-time.js';
import { headerValue } from './request-headers.js';
import { unauthorized } from './rejections.js';
import type { RequestCheck } from './types.js';

export function headerKeyCheck(headerName: string, apiKey: string): RequestCheck {
  const name = headerName.toLowerCase();
  const digest = digestOf(apiKey);
  const rejection = unauthorized(`missing or invalid ${headerName} header`);
  return {
    name: 'header_auth',
    phase: 'headers',
    run: (req) => (matchesDigest(digest, headerValue(req.headers, name)) ? null : rejection),
  };
}

export function queryKeyCheck(parameterName: string, apiKey: string): RequestCheck {
  const digest = digestOf(apiKey);
  const rejection = unauthorized(`missing or invalid ${parameterName} query parameter`);
  return {
    name: 'query_auth',
    phase: 'headers',
    run: (req) => (matchesDigest(digest, req.query.get(parameterName) ?? undefined) ? null : rejection),
  };
}
