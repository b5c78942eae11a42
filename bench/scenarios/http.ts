/**
 * The log webhook against a bare node:http server that reads and parses the
 * same body, under the same wrk load in the same run: throughput and p99 as
 * ratios, since absolute numbers on a shared 2-core machine say little.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, CONNECTIONS, loadFigures, ratioFigures } from '../lib/compare.js';
import { PAYLOAD } from '../lib/payload.js';
import { startBare, startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { BenchContext, Scenario } from '../lib/scenario.js';

/** A CONFIG_DIR for the file backend holding the given webhooks (and connections, when given). */
export function configDir(ctx: BenchContext, name: string, webhooks: Record<string, unknown>, connections?: Record<string, unknown>): string {
  const dir = join(ctx.workDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'webhooks.json'), JSON.stringify(webhooks));
  if (connections) writeFileSync(join(dir, 'connections.json'), JSON.stringify(connections));
  return dir;
}

export const httpScenario: Scenario = {
  name: 'http-log',
  description: `log webhook vs bare node:http (reads + JSON.parses the body); wrk, ${CONNECTIONS} connections, ${Buffer.byteLength(PAYLOAD)}-byte JSON body, interleaved rounds, medians`,
  async run(ctx) {
    const dir = configDir(ctx, 'http-log', { bench: { data_type: 'json', module: 'log' } });
    const startCwm = (): Promise<ServerProcess> => startCwmServer(ctx, 'http-log', { CONFIG_BACKEND: 'file', CONFIG_DIR: dir });
    return withServers([() => startBare(), startCwm], async ([bare, cwm]) => {
      const [b, c] = await compare(ctx, [
        { label: 'bare node:http', server: bare as ServerProcess, paths: ['/webhook/bench'] },
        { label: 'cwm log webhook', server: cwm as ServerProcess, paths: ['/webhook/bench'] },
      ]);
      if (!b || !c) throw new Error('compare returned fewer results than targets');
      return [...loadFigures(b), ...loadFigures(c), ...ratioFigures(c, b, { throughput: { op: '>=', target: 0.5 }, p99: { op: '<=', target: 2.5 } })];
    });
  },
};
