/** Command line of the chaos runner. */
import { SCENARIOS } from './suite.js';
import type { Scenario } from './scenario.js';

export const USAGE = `usage: npm run chaos -- [--short] [--only <name>[,<name>...]]...
  --short   outages of a few seconds (CI size) instead of the full ones
  --only    run only these scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`;

export class UsageError extends Error {}

export interface ChaosOptions {
  readonly short: boolean;
  readonly scenarios: readonly Scenario[];
  readonly help: boolean;
}

export function parseOptions(argv: readonly string[]): ChaosOptions {
  let short = false;
  let help = false;
  const only = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--short') short = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value === '') throw new UsageError('--only needs a scenario name');
      for (const name of value.split(',')) {
        if (!SCENARIOS.some((s) => s.name === name)) throw new UsageError(`unknown scenario ${JSON.stringify(name)}`);
        only.add(name);
      }
    } else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  return { short, help, scenarios: only.size === 0 ? SCENARIOS : SCENARIOS.filter((s) => only.has(s.name)) };
}
