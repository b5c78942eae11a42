/**
 * `npm run bench [-- --smoke] [--only name,name] [--profile dir] [--json file]`:
 * runs the benchmark scenarios against real processes and prints one table.
 * Not a test: figures depend on the machine; see docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { goalMet, renderTable, type BenchContext, type Scenario, type ScenarioResult } from './lib/scenario.js';
import { SCENARIOS } from './scenarios/index.js';

const USAGE = `usage: npm run bench -- [--smoke] [--only ${SCENARIOS.map((s) => s.name).join(',')}] [--profile DIR] [--json FILE]`;

function select(only: string | undefined): Scenario[] {
  if (!only) return [...SCENARIOS];
  const names = only.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`);
  return SCENARIOS.filter((s) => names.includes(s.name));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const scenarios = select(values.only);
  const workDir = mkdtempSync(resolve(tmpdir(), 'cwm-bench-'));
  const profileDir = values.profile ? resolve(values.profile) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx: BenchContext = { smoke: values.smoke, workDir, profileDir, log: (m) => process.stderr.write(`bench: ${m}\n`) };
  const results: ScenarioResult[] = [];
  const loadBefore = loadavg()[0];
  try {
    for (const s of scenarios) {
      ctx.log(`scenario ${s.name}: ${s.description}`);
      try {
        results.push({ scenario: s.name, figures: await s.run(ctx) });
      } catch (err) {
        results.push({ scenario: s.name, figures: [], error: (err as Error).stack ?? String(err) });
        ctx.log(`scenario ${s.name} failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const machine = `${cpus().length} CPUs, node ${process.version}, load average ${(loadBefore ?? 0).toFixed(1)} before / ${(loadavg()[0] ?? 0).toFixed(1)} after the run`;
  process.stdout.write(`${machine}\n\n${renderTable(results)}\n\n`);
  for (const s of scenarios) process.stdout.write(`${s.name}: ${s.description}\n`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ smoke: values.smoke, machine, results }, null, 2));
  const failed = results.filter((r) => r.error).length;
  const missed = results.flatMap((r) => r.figures).filter((f) => goalMet(f) === false).length;
  process.stdout.write(`\n${failed} scenario(s) failed to run; ${missed} goal(s) missed${values.smoke ? ' (smoke mode: timings are not meaningful)' : ''}\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 2;
  },
);
