/**
 * 25 000 webhooks loaded from etcd, each request to a random one of them,
 * against the bare node:http server under the same load: lookups must stay
 * flat however many webhooks there are.
 */
import { gridEntries, putMany } from '../../test/helpers/etcd-seed.js';
import { compare, CONNECTIONS, loadFigures, ratioFigures } from '../lib/compare.js';
import { withEtcd } from '../lib/etcd-cwm.js';
import { startBare, withServers, type ServerProcess } from '../lib/processes.js';
import type { Scenario } from '../lib/scenario.js';

export const manyWebhooksScenario: Scenario = {
  name: 'many-webhooks',
  description: `25 000 log webhooks from etcd (5000 namespaces × 5), each request to a random one; wrk, ${CONNECTIONS} connections, vs bare node:http, interleaved rounds`,
  async run(ctx) {
    const [namespaces, perNamespace] = ctx.smoke ? [400, 5] : [5000, 5];
    const paths: string[] = [];
    for (let ns = 0; ns < namespaces; ns++) for (let id = 0; id < perNamespace; id++) paths.push(`/webhook/ns${ns}/hook${id}`);
    return withEtcd(ctx, async ({ client, startCwm }) => {
      await putMany(client, gridEntries(namespaces, perNamespace));
      return withServers([() => startBare(), () => startCwm('many-webhooks', 60_000)], async ([bare, cwm]) => {
        const [b, c, one] = await compare(ctx, [
          { label: 'bare node:http', server: bare as ServerProcess, paths },
          { label: `cwm, ${paths.length} webhooks`, server: cwm as ServerProcess, paths },
          // The same process hit on one path: what spreading requests costs, apart from the loaded heap.
          { label: `cwm, ${paths.length} webhooks loaded, one path`, server: cwm as ServerProcess, paths: paths.slice(0, 1) },
        ]);
        if (!b || !c || !one) throw new Error('compare returned fewer results than targets');
        return [
          ...loadFigures(c),
          ...ratioFigures(c, b, { throughput: { op: '>=', target: 0.5 }, p99: { op: '<=', target: 2.5 } }),
          ...loadFigures(one).filter((f) => f.measure.endsWith('CPU per request')),
          ...ratioFigures(c, one).filter((f) => f.measure.endsWith('CPU per request')),
        ];
      });
    });
  },
};
