/**
 * `application/x-www-form-urlencoded` bodies (Slack slash commands and
 * interactivity, Twilio, GitHub's form content type) as an object, parsed by
 * node's URLSearchParams:
 * - a key sent once is a string; a key sent again becomes an array of its
 *   values in the order sent (`a=1&a=2` → `{"a":["1","2"]}`), so nothing is
 *   silently dropped and a json_schema can say which it expects;
 * - `__proto__`, `constructor` are ordinary keys (own properties);
 * - the body must be UTF-8, and so must every percent-decoded key and value:
 *   URLSearchParams turns invalid sequences into U+FFFD without a word, so a
 *   replacement character that is not in the body itself is refused (400).
 */
import { PayloadError } from './json-payload.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const REPLACEMENT = '\uFFFD';
/** A percent escape of a byte ≥ 0x80: only these can decode to an invalid UTF-8 sequence. */
const HIGH_ESCAPE = /%[89a-f][0-9a-f]/i;
/** U+FFFD itself, encoded (EF BF BD): a sender may mean it. */
const ENCODED_REPLACEMENT = /%ef%bf%bd/i;

function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment would set the prototype for a key named __proto__.
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

export function decodeForm(body: Buffer): Record<string, string | string[]> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new PayloadError('body is not valid UTF-8');
  }
  const out: Record<string, string | string[]> = {};
  const mayBeLossy = HIGH_ESCAPE.test(text) && !text.includes(REPLACEMENT) && !ENCODED_REPLACEMENT.test(text);
  for (const [key, value] of new URLSearchParams(text)) {
    if (mayBeLossy && (key.includes(REPLACEMENT) || value.includes(REPLACEMENT))) throw new PayloadError('a form field is not valid UTF-8 once percent-decoded');
    const seen: unknown = Object.hasOwn(out, key) ? out[key] : undefined;
    if (seen === undefined) setOwn(out, key, value);
    else if (Array.isArray(seen)) seen.push(value);
    else setOwn(out, key, [seen, value]);
  }
  return out;
}

export function isFormContentType(contentType: string): boolean {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'application/x-www-form-urlencoded';
}
