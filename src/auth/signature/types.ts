/** One vendor's signature scheme: how its secrets become keys, and how a request is verified over the raw body. */
import type { RequestView } from '../types.js';

export interface SignatureInput {
  readonly request: RequestView;
  /** HMAC keys, one per configured secret (rotation), derived once per config. */
  readonly keys: readonly Buffer[];
  readonly nowMs: number;
  readonly toleranceSeconds: number;
}

export interface SignaturePreset {
  /** Lower-case names of the headers carrying the signature: never forwarded, always redacted. */
  readonly headers: readonly string[];
  /** Throws ConfigError for a secret this scheme cannot use. */
  keyFrom(secret: string): Buffer;
  /** Null when valid, else a reason that names headers but never secrets. */
  verify(input: SignatureInput): string | null;
}
