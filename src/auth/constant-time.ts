/**
 * Secret comparisons that take the same time whatever the input: values are
 * compared as fixed-length digests (or equal-length MACs) with timingSafeEqual,
 * so neither content nor length leaks through timing.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';

/**
 * SHA-256 of a configured secret, computed once per config. Copied into
 * Buffer's shared pool: a digest's own ArrayBuffer costs ~100 bytes more, and
 * tens of thousands of webhooks each hold one or two.
 */
export function digestOf(value: string | Buffer): Buffer {
  const digest = sha256(value);
  const pooled = Buffer.allocUnsafe(digest.length);
  digest.copy(pooled);
  return pooled;
}

/** One-shot crypto.hash: ~0.6× createHash's time for a short value (1.04 vs 1.73 µs, bench scenario micro). */
function sha256(value: string | Buffer): Buffer {
  return hash('sha256', value, 'buffer');
}

/**
 * A configured secret for constant-time comparison, hashed on its first
 * comparison, not when the config loads: a start with 25 000 webhooks that
 * carry a static token then hashes none (~70 ms of CPU in its profile), and a
 * webhook never called never holds a digest. The value itself is held until
 * then, as the loaded config holds it anyway.
 */
export class SecretDigest {
  private digest: Buffer | undefined;
  private value: string | undefined;

  constructor(value: string) {
    this.value = value;
  }

  /** True when `given` equals the secret; takes the same time whatever `given` is. */
  matches(given: string | undefined): boolean {
    if (this.digest === undefined) {
      this.digest = digestOf(this.value as string);
      this.value = undefined;
    }
    return matchesDigest(this.digest, given);
  }
}

/** True when `given` equals the value whose digest is `expected`. */
export function matchesDigest(expected: Buffer, given: string | undefined): boolean {
  // An absent value is still hashed so that "missing" and "wrong" cost the same.
  const same = timingSafeEqual(expected, sha256(given ?? ''));
  return same && given !== undefined;
}

/** Equal-length buffers compared in constant time; different lengths never match. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `case_sensitive` of header_auth / query_auth. CWM defaults to false
 * (lower-cased comparison); cwm defaults to true: folding case takes a
 * random letters-and-digits key from 62 to 36 symbols per character (a
 * 32-character key from ~190 to ~165 bits), and a CWM config that relied on
 * it says so by writing `false`. Either way the comparison stays digest-based.
 */
export const caseSensitive = Type.Boolean({ default: true, description: 'false: compare lower-cased, as CWM does by default (cwm: true)' });

type Fold = <T extends string | undefined>(value: T) => T;
const same: Fold = (value) => value;
const lower: Fold = (value) => value?.toLowerCase() as typeof value;

/** The transform both sides of a static-key comparison go through. */
export function caseFolded(sensitive: boolean): Fold {
  return sensitive ? same : lower;
}
