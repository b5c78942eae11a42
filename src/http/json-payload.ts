/** Strict JSON body decoding: valid UTF-8 only, bounded nesting depth, a clear reason on failure. */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export class PayloadError extends Error {}

/**
 * Opening brackets, in strings or not, bound the depth from above. Most
 * bodies have fewer than the limit, and counting them with native indexOf
 * costs a fraction of the exact character-by-character scan.
 */
function openingBracketsExceed(text: string, limit: number): boolean {
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) {
      if (++count > limit) return true;
    }
  }
  return false;
}

/** Deepest nesting of objects/arrays, ignoring brackets inside strings; stops counting past `limit`. */
export function nestingExceeds(text: string, limit: number): boolean {
  if (!openingBracketsExceed(text, limit)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

export function decodeJson(body: Buffer, maxDepth: number): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new PayloadError('body is not valid UTF-8');
  }
  if (nestingExceeds(text, maxDepth)) throw new PayloadError(`JSON nesting exceeds ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new PayloadError('body is not valid JSON');
  }
}

export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
