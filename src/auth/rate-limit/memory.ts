/**
 * In-process fixed-window limiter: two numbers per webhook, O(1) per request.
 * The state lives in the compiled webhook, so it goes away with it; a config
 * change starts a fresh window.
 */
import type { CheckRun } from '../types.js';
import { tooManyRequests, type RateLimit } from './types.js';

export function memoryRateLimit(limit: RateLimit, now: () => number): CheckRun {
  const windowMs = limit.windowSeconds * 1000;
  // Captured as a number, not through `limit`: the object would stay alive once per webhook.
  const maxRequests = limit.maxRequests;
  let windowStart = -Infinity;
  let count = 0;
  return () => {
    const t = now();
    if (t - windowStart >= windowMs) {
      windowStart = t;
      count = 0;
    }
    if (count >= maxRequests) return tooManyRequests(windowStart + windowMs - t);
    count++;
    return null;
  };
}
