/** The two answers an auth check gives (DESIGN §3): 401 for credentials and signatures, 403 for addresses. */
import { RETRY_AFTER_SECONDS } from '../errors.js';
import type { Rejection } from './types.js';

export function unauthorized(error: string, headers?: Readonly<Record<string, string>>): Rejection {
  return headers ? { status: 401, error, headers } : { status: 401, error };
}

export function forbidden(error: string): Rejection {
  return { status: 403, error };
}

/** A Redis store a check needs (shared rate limit, nonces) is down: retryable. */
export const storeUnavailable: Rejection = { status: 503, error: 'a store this webhook needs is unavailable; retry later', headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } };
