/** The pieces every HMAC scheme shares: strict signature decoding, MAC matching over several keys, timestamp windows. */
import { createHmac } from 'node:crypto';
import { sameBytes } from '../constant-time.js';

export type MacAlgorithm = 'sha1' | 'sha256' | 'sha512';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Bounds the work one request can ask for: signatures beyond this many are ignored. */
export const MAX_SIGNATURES = 16;

/** Rejects what Buffer.from would silently half-decode, so only canonical signatures are compared. */
export function decodeHex(text: string): Buffer | undefined {
  return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
}

export function decodeBase64(text: string): Buffer | undefined {
  return text.length % 4 === 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** True when any key's MAC over the concatenated parts equals any candidate. */
export function macMatches(algorithm: MacAlgorithm, keys: readonly Buffer[], parts: readonly (string | Buffer)[], candidates: readonly Buffer[]): boolean {
  if (candidates.length === 0) return false;
  for (const key of keys) {
    const mac = createHmac(algorithm, key);
    for (const p of parts) mac.update(p);
    const expected = mac.digest();
    for (const c of candidates) if (sameBytes(expected, c)) return true;
  }
  return false;
}

export type TimestampVerdict = 'ok' | 'invalid' | 'stale' | 'future';

/** Unix seconds in a header, judged against now ± tolerance. */
export function judgeTimestamp(text: string | undefined, nowMs: number, toleranceSeconds: number): TimestampVerdict {
  if (text === undefined || !/^\d{1,12}$/.test(text)) return 'invalid';
  const skew = Number(text) - nowMs / 1000;
  if (skew < -toleranceSeconds) return 'stale';
  if (skew > toleranceSeconds) return 'future';
  return 'ok';
}

export function timestampProblem(verdict: TimestampVerdict, header: string): string | null {
  switch (verdict) {
    case 'ok':
      return null;
    case 'invalid':
      return `missing or invalid ${header} header`;
    case 'stale':
      return `${header} is too old`;
    case 'future':
      return `${header} is too far in the future`;
  }
}
