/**
 * What a `json` webhook accepts as its body, by declared Content-Type:
 * - none (or empty): JSON. CWM never looked at the type, and its docs send
 *   `curl -d '{...}'` without one.
 * - `application/json`, `application/*+json`: JSON.
 * - anything else: 415.
 */
import { decodeJson, isJsonContentType } from './json-payload.js';

export type BodyFormat = 'json';

/** The format a declared Content-Type selects; undefined: not accepted on a json webhook (415). */
export function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  if (contentType === undefined || contentType.trim() === '') return 'json';
  if (isJsonContentType(contentType)) return 'json';
  return undefined;
}

/** The parsed payload of a json webhook's body; throws PayloadError with a reason a sender may see. */
export function decodePayload(body: Buffer, _format: BodyFormat, maxJsonDepth: number): unknown {
  return decodeJson(body, maxJsonDepth);
}
