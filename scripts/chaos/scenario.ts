/** What a chaos scenario is and what one run of it reports. */
import type { Tally } from './tally.js';

export interface RunOptions {
  /** CI-sized: outages of a few seconds instead of the full ones. */
  readonly short: boolean;
}

export interface ScenarioReport {
  /** One row per destination counted. */
  readonly tallies: readonly Tally[];
  /** What happened, with measured times (e.g. "leader n1 killed at 4.2 s, back at 7.3 s"). */
  readonly notes: readonly string[];
  /**
   * At-least-once destinations (the durable spool): a copy of an id sent only
   * once is counted and reported but does not fail the run; lost still does.
   */
  readonly atLeastOnce?: boolean;
}

export interface Scenario {
  /** The `--only` name. */
  readonly name: string;
  readonly title: string;
  run(opts: RunOptions): Promise<ScenarioReport>;
}

export interface ScenarioResult extends ScenarioReport {
  readonly name: string;
  readonly title: string;
  readonly seconds: number;
  /** Set when the scenario could not finish (a service did not come back, ...): counts as failed. */
  readonly error?: string;
}
