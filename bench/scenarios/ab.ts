/**
 * A/B of two builds of cwm on the log webhook: this checkout against the one
 * named by CWM_BENCH_BASELINE (a checkout with `npm run build` done), in
 * interleaved rounds. Without it, this build against itself: the spread of
 * that A/A run is how small a difference this machine can show at all.
 * CWM_BENCH_BASELINE_ENV / CWM_BENCH_CANDIDATE_ENV (JSON objects) add
 * environment variables to one side, e.g. {"LOG_LEVEL":"warn"} to price the
 * log line, or {"NODE_OPTIONS":"--max-semi-space-size=64"}.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../../test/helpers/cwm-process.js';
import { compare, loadFigures, ratioFigures, type Measured } from '../lib/compare.js';
import { startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { Figure, Scenario } from '../lib/scenario.js';
import { configDir } from './http.js';

const ROUNDS = 10;

/** Extra environment for one side, from a JSON object in `variable`. */
function extraEnv(variable: string): Record<string, string> {
  const text = process.env[variable];
  if (!text) return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
    throw new Error(`${variable} must be a JSON object of strings, e.g. {"LOG_LEVEL":"warn"}`);
  }
  return parsed as Record<string, string>;
}

function spread(candidate: Measured, baseline: Measured): Figure[] {
  const ratios = candidate.rounds.map((r, i) => r.cpuUsPerRequest / (baseline.rounds[i]?.cpuUsPerRequest ?? NaN));
  return [
    { measure: 'candidate / baseline CPU per request, lowest round', value: Math.min(...ratios), unit: 'x' },
    { measure: 'candidate / baseline CPU per request, highest round', value: Math.max(...ratios), unit: 'x' },
  ];
}

export const abScenario: Scenario = {
  name: 'ab',
  description: `log webhook of this build (candidate) vs CWM_BENCH_BASELINE's build (baseline; this build when unset), ${ROUNDS} interleaved rounds, medians and the spread of the per-round CPU ratio`,
  async run(ctx) {
    const baselineDir = process.env.CWM_BENCH_BASELINE;
    // Builds before the bundle step (dist/cwm.js) run their unbundled CLI.
    const baselineCli = baselineDir ? [join(baselineDir, 'dist', 'cwm.js'), join(baselineDir, 'dist', 'src', 'cli', 'main.js')].find((f) => existsSync(f)) ?? '' : CLI;
    const baselineEnv = extraEnv('CWM_BENCH_BASELINE_ENV');
    const candidateEnv = extraEnv('CWM_BENCH_CANDIDATE_ENV');
    ctx.log(`baseline: ${baselineCli} ${JSON.stringify(baselineEnv)}; candidate: ${CLI} ${JSON.stringify(candidateEnv)}`);
    const dir = configDir(ctx, 'ab', { bench: { data_type: 'json', module: 'log' } });
    const env = { CONFIG_BACKEND: 'file', CONFIG_DIR: dir };
    const baselineStart = (): Promise<ServerProcess> => startCwmServer(ctx, 'ab-baseline', { ...env, ...baselineEnv }, undefined, baselineCli);
    const candidateStart = (): Promise<ServerProcess> => startCwmServer(ctx, 'ab-candidate', { ...env, ...candidateEnv });
    return withServers([baselineStart, candidateStart], async ([a, b]) => {
      const [baseline, candidate] = await compare(
        ctx,
        [
          { label: 'baseline', server: a as ServerProcess, paths: ['/webhook/bench'] },
          { label: 'candidate', server: b as ServerProcess, paths: ['/webhook/bench'] },
        ],
        ROUNDS,
      );
      if (!baseline || !candidate) throw new Error('compare returned fewer results than targets');
      return [...loadFigures(baseline), ...loadFigures(candidate), ...ratioFigures(candidate, baseline), ...spread(candidate, baseline)];
    });
  },
};
