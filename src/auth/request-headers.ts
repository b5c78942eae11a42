/** One header value as a string: node joins most repeated headers, but a few arrive as arrays. */
import type { IncomingHttpHeaders } from 'node:http';

/** `name` must be lower-case. Returns the first value of a repeated header. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
