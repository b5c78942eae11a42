/** What both limiters share: the configured budget and the 429 answer. */
import type { Rejection } from '../types.js';

export interface RateLimit {
  readonly maxRequests: number;
  readonly windowSeconds: number;
}

export function tooManyRequests(retryAfterMs: number): Rejection {
  return { status: 429, error: 'rate limit exceeded', headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } };
}
