/**
 * Remembers credentials that verified, until a time they stop being valid
 * (token expiry, nonce lifetime), so a sender repeating the same bearer token
 * or Digest header costs one SHA-256 and a Map lookup instead of a signature
 * check. Keyed by the digest (no usable credential is held), bounded, oldest
 * out first. Only successes are cached: a failure always re-verifies.
 */
import { createHash } from 'node:crypto';

export class VerifiedCache {
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  static keyOf(credential: string): string {
    return createHash('sha256').update(credential).digest('base64');
  }

  /** True when `key` verified and is still valid at `now` (ms). */
  has(key: string, now: number): boolean {
    const until = this.entries.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.entries.delete(key);
    return false;
  }

  add(key: string, validUntil: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, validUntil);
  }
}
