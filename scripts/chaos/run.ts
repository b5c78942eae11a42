/**
 * `npm run chaos`: scripted chaos runs against real etcd, Redis, the Kafka
 * test broker and cwm processes, all on loopback. Prints a table per run and
 * a summary; exits 1 if anything acknowledged was lost (or duplicated
 * without a retry, or a run could not finish), 2 on a bad command line.
 */
import { cpus } from 'node:os';
import { parseOptions, UsageError, USAGE } from './options.js';
import { runScenario } from './suite.js';
import { renderScenario, renderSummary, scenarioPassed } from './table.js';
import type { ScenarioResult } from './scenario.js';

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chaos: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.stdout.write(`cwm chaos runs${opts.short ? ' (--short)' : ''}: ${cpus().length} CPUs, node ${process.version}\n\n`);
  const results: ScenarioResult[] = [];
  for (const scenario of opts.scenarios) {
    process.stderr.write(`running ${scenario.name} ...\n`);
    const result = await runScenario(scenario, { short: opts.short });
    results.push(result);
    process.stdout.write(`${renderScenario(result)}\n\n`);
  }
  process.stdout.write(`### Summary\n\n${renderSummary(results)}\n`);
  return results.every(scenarioPassed) ? 0 : 1;
}

process.exitCode = await main();
