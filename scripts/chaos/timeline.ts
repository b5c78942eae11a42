/** Time within a scenario: phases last a fixed time (the outage is the point), events are stamped from the start. */
export interface Clock {
  /** Seconds since the scenario started, e.g. "4.2 s". */
  at(): string;
  /** Milliseconds since `from` (a Date.now()). */
  since(from: number): number;
}

export function startClock(): Clock {
  const start = Date.now();
  return {
    at: () => `${((Date.now() - start) / 1000).toFixed(1)} s`,
    since: (from) => Date.now() - from,
  };
}

/** Lets traffic run for a phase of the scenario. */
export function hold(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Full or short (`--short`) length of a phase. */
export function phase(short: boolean, fullMs: number, shortMs: number): number {
  return short ? shortMs : fullMs;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
