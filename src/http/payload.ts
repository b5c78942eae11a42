/**
 * What a `json` webhook accepts as its body, by declared Content-Type:
 * - none (or empty): JSON. CWM never looked at the type, and its docs send
 *   `curl -d '{...}'` without one.
 * - `application/json`, `application/*+json`: JSON.
 * - `application/x-www-form-urlencoded`: an object of its fields (form-payload.ts).
 * - anything else: 415.
 * Either way the same byte limit applies, checks see the raw body, and
 * json_schema judges the parsed object.
 */
import { decodeForm, isFormContentType } from './form-payload.js';
import { decodeJson, isJsonContentType } from './json-payload.js';

export type BodyFormat = 'json' | 'form';

/** The format a declared Content-Type selects; undefined: not accepted on a json webhook (415). */
export function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  if (contentType === undefined || contentType.trim() === '') return 'json';
  if (isJsonContentType(contentType)) return 'json';
  if (isFormContentType(contentType)) return 'form';
  return undefined;
}

/** The parsed payload of a json webhook's body; throws PayloadError with a reason a sender may see. */
export function decodePayload(body: Buffer, format: BodyFormat, maxJsonDepth: number): unknown {
  return format === 'form' ? decodeForm(body) : decodeJson(body, maxJsonDepth);
}
