/**
 * A config storm: 10 000 etcd puts in a burst while wrk loads a webhook the
 * storm does not touch. Reports the event-loop lag p99 (prom-client's
 * monitorEventLoopDelay metric, scraped so that it covers exactly the load-only
 * and the storm phase), failed requests on the steady webhook, and how long
 * cwm took to apply the whole burst.
 */
import type { Etcd3 } from 'etcd3';
import { metric } from '../../test/helpers/cwm-http.js';
import { logHookValue, putMany } from '../../test/helpers/etcd-seed.js';
import { CONNECTIONS } from '../lib/compare.js';
import { withEtcd } from '../lib/etcd-cwm.js';
import { Probe } from '../lib/probe.js';
import { runLoad } from '../lib/load.js';
import { PAYLOAD } from '../lib/payload.js';
import type { ServerProcess } from '../lib/processes.js';
import type { Scenario } from '../lib/scenario.js';

const PUTS_IN_FLIGHT = 256;
const LAG_P99 = 'cwm_nodejs_eventloop_lag_p99_seconds';
const LAG_MAX = 'cwm_nodejs_eventloop_lag_max_seconds';

/**
 * Individual puts (one revision, one watch event each), PUTS_IN_FLIGHT at a
 * time; resolves the webhook path written at the highest revision: once cwm
 * serves it, it has applied the whole burst (watch events arrive in order).
 */
async function burst(client: Etcd3, count: number): Promise<string> {
  let next = 0;
  let highest = { revision: 0, path: '' };
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const res = await client.put(`/cwm/storm${i % 100}/webhooks/h${i}`).value(logHookValue(`storm-${i}`));
      const revision = Number(res.header.revision);
      if (revision > highest.revision) highest = { revision, path: `/webhook/storm${i % 100}/h${i}` };
    }
  };
  await Promise.all(Array.from({ length: PUTS_IN_FLIGHT }, worker));
  return highest.path;
}

/** prom-client resets the lag histogram on every scrape: a scrape returns the figures since the previous one. */
async function lagSinceLastScrape(cwm: ServerProcess): Promise<{ p99Ms: number; maxMs: number }> {
  const text = await (await fetch(`${cwm.baseUrl}/metrics`)).text();
  const read = (series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    if (!line) throw new Error(`${series} missing from /metrics`);
    return Number(line.slice(series.length + 1)) * 1000;
  };
  return { p99Ms: read(LAG_P99), maxMs: read(LAG_MAX) };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const configStormScenario: Scenario = {
  name: 'config-storm',
  description: `10 000 etcd puts (${PUTS_IN_FLIGHT} in flight) while wrk (${CONNECTIONS} connections) loads a webhook the storm does not touch`,
  async run(ctx) {
    const puts = ctx.smoke ? 1000 : 10_000;
    const phaseMs = ctx.smoke ? 1000 : 3000;
    return withEtcd(ctx, async ({ client, startCwm }) => {
      await putMany(client, [{ key: '/cwm/steady/webhooks/hook', value: logHookValue('steady') }]);
      const cwm = await startCwm('config-storm');
      // Runs until the storm has been applied (stopped below); the duration is only a bound.
      const stop = new AbortController();
      const load = runLoad({ baseUrl: cwm.baseUrl, paths: ['/webhook/steady/hook'], body: PAYLOAD, connections: CONNECTIONS, durationS: 300, signal: stop.signal });
      await pause(phaseMs);
      await lagSinceLastScrape(cwm);
      await pause(phaseMs);
      const loadOnly = await lagSinceLastScrape(cwm);
      ctx.log(`storm: ${puts} puts`);
      const started = performance.now();
      const last = await burst(client, puts);
      const putMs = performance.now() - started;
      // Polled over HTTP, not /metrics: every scrape resets the lag histogram.
      const probe = new Probe(cwm.baseUrl);
      try {
        await probe.untilServed(last, 60_000);
      } finally {
        probe.close();
      }
      const appliedMs = performance.now() - started;
      const storm = await lagSinceLastScrape(cwm);
      const served = await metric(cwm, 'cwm_config_entries', 'kind="webhook"');
      await pause(phaseMs);
      stop.abort();
      const result = await load;
      return [
        { measure: 'event-loop lag p99, load only', value: loadOnly.p99Ms, unit: 'ms' },
        { measure: `event-loop lag p99, load + ${puts} puts`, value: storm.p99Ms, unit: 'ms', goal: { op: '<=', target: 50 } },
        { measure: `event-loop lag max, load + ${puts} puts`, value: storm.maxMs, unit: 'ms' },
        { measure: 'failed requests, steady webhook', value: result.socketErrors + result.badStatus, unit: 'count', goal: { op: '<=', target: 0 } },
        { measure: 'steady webhook throughput during run', value: Math.round(result.rps), unit: 'req/s' },
        { measure: `${puts} puts acknowledged by etcd`, value: putMs, unit: 'ms' },
        { measure: `${puts} puts applied by cwm (from first put)`, value: appliedMs, unit: 'ms' },
        { measure: 'webhooks loaded after the storm', value: served, unit: 'count', goal: { op: '>=', target: puts + 1 } },
      ];
    });
  },
};
