/**
 * The one reconnect policy every connection client uses: exponential from
 * 50 ms, capped at 1 s, so a server that comes back is seen within about a
 * second (DESIGN §5: back up → 200 again within ~1 s), with jitter so a fleet
 * does not reconnect in lockstep.
 */
export const RECONNECT_INITIAL_MS = 50;
export const RECONNECT_MAX_MS = 1000;

/** Delay before reconnect attempt `attempt` (1-based), in ms. */
export function reconnectDelayMs(attempt: number): number {
  const base = Math.min(RECONNECT_INITIAL_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 5), RECONNECT_MAX_MS);
  // Jitter downwards only (75–100 % of the step), so the cap stays a cap.
  return Math.round(base * (0.75 + Math.random() * 0.25));
}
