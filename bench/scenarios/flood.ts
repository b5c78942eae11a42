/**
 * The pipelining flood of the security scenario: 32 connections each pipeline
 * POSTs to a log webhook without ever reading an answer, for 20 s (3 s in
 * smoke), while two separate node processes GET /health every 200 ms on a
 * fresh connection, one on PORT and one on PROBE_PORT (the admin routes on
 * their own listener). cwm is warmed up first and holds the 32 connections
 * before the flood starts: node accepts one connection per turn of the loop,
 * and a burst of connections is a separate effect from the flood.
 * The same flood, with bounds that only tell a stall from a working loop, is
 * test/integration/hostile-resources.test.ts; both use test/helpers/flood.ts.
 */
import { freePort } from '../../test/helpers/ports.js';
import { metricSumAt, openUnreadConnections, pipelinedPost, pipelineFlood, probeFromOutside, warmUp } from '../../test/helpers/flood.js';
import { PAYLOAD } from '../lib/payload.js';
import { startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { BenchContext, Figure } from '../lib/scenario.js';
import { configDir } from './http.js';

const CONNECTIONS = 32;
const WARMUP_REQUESTS = 4000;
/** Pipelined requests per write: 64 × ~700 bytes, a few TCP segments. */
const BATCH = 64;

/** Nearest-rank percentile of ascending `sorted` (NaN when empty). */
function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number);
}

/** Where the slowest probes fall: the first second of the flood (32 sockets' first writes land at once) or later. */
const SETTLE_MS = 1000;
/** How long the probes run before the flood starts. */
const PROBE_LEAD_MS = 1000;

function probeFigures(label: string, probes: readonly { at: number; ms: number }[], floodStart: number, goals: { p99?: number; max?: number }): Figure[] {
  const answered = probes.map((p) => p.ms).filter((ms) => Number.isFinite(ms)).sort((a, b) => a - b);
  const later = probes.filter((p) => p.at >= floodStart + SETTLE_MS && Number.isFinite(p.ms)).map((p) => p.ms);
  return [
    { measure: `flood: /health on ${label} probes`, value: probes.length, unit: 'count' },
    { measure: `flood: /health on ${label} unanswered within 5 s`, value: probes.length - answered.length, unit: 'count', goal: { op: '<=', target: 0 } },
    { measure: `flood: /health on ${label} p50`, value: percentile(answered, 0.5), unit: 'ms' },
    { measure: `flood: /health on ${label} p99`, value: percentile(answered, 0.99), unit: 'ms', goal: goals.p99 === undefined ? undefined : { op: '<=', target: goals.p99 } },
    { measure: `flood: /health on ${label} max`, value: answered[answered.length - 1] ?? NaN, unit: 'ms', goal: goals.max === undefined ? undefined : { op: '<=', target: goals.max } },
    { measure: `flood: /health on ${label} max after the first ${SETTLE_MS / 1000} s`, value: later.length === 0 ? NaN : Math.max(...later), unit: 'ms' },
  ];
}

export async function floodFigures(ctx: BenchContext): Promise<Figure[]> {
  const floodMs = ctx.smoke ? 3_000 : 20_000;
  const dir = configDir(ctx, 'security-flood', { sink: { module: 'log' } });
  const probePort = await freePort();
  // LOG_LEVEL warn as in the hostile-resources test: the flood measures the HTTP layer, not log volume.
  const start = (): Promise<ServerProcess> => startCwmServer(ctx, 'security-flood', { CONFIG_BACKEND: 'file', CONFIG_DIR: dir, PROBE_PORT: String(probePort), LOG_LEVEL: 'warn' });
  return withServers([start], async ([cwm]) => {
    const server = cwm as ServerProcess;
    const probeUrl = `http://127.0.0.1:${probePort}`;
    const request = pipelinedPost('/webhook/sink', PAYLOAD);
    ctx.log(`flood: warm-up, ${WARMUP_REQUESTS} pipelined requests`);
    await warmUp(server.port, request, WARMUP_REQUESTS);
    const sockets = await openUnreadConnections(server.port, CONNECTIONS, probeUrl);
    await metricSumAt(probeUrl, 'cwm_nodejs_eventloop_lag_max_seconds'); // reading resets the window
    const pressureBefore = await metricSumAt(probeUrl, 'cwm_http_backpressure_total');
    let maxRss = server.rssBytes();
    const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, server.rssBytes())), 100);
    ctx.log(`flood: ${CONNECTIONS} connections pipelining for ${floodMs / 1000} s`);
    try {
      // The probe processes start (node startup, ~50 ms of CPU each) a second before the flood, so that
      // their own startup does not coincide with the flood's first second; only probes sent during the
      // flood are counted.
      const probe = probeFromOutside(probePort, PROBE_LEAD_MS + floodMs);
      const shared = probeFromOutside(server.port, PROBE_LEAD_MS + floodMs);
      await new Promise((r) => setTimeout(r, PROBE_LEAD_MS));
      const floodStart = Date.now();
      const written = await pipelineFlood(sockets, Buffer.concat(Array.from({ length: BATCH }, () => request)), floodMs);
      const [probeProbes, sharedProbes] = await Promise.all([probe, shared]);
      const lagMaxS = await metricSumAt(probeUrl, 'cwm_nodejs_eventloop_lag_max_seconds');
      const pressure = (await metricSumAt(probeUrl, 'cwm_http_backpressure_total')) - pressureBefore;
      return [
        ...probeFigures('PROBE_PORT', probeProbes.filter((p) => p.at >= floodStart), floodStart, { max: 100 }),
        ...probeFigures('PORT', sharedProbes.filter((p) => p.at >= floodStart), floodStart, { p99: 100 }),
        { measure: 'flood: cwm max RSS', value: Math.round(maxRss / 1048576), unit: 'MB', goal: { op: '<=', target: 300 } },
        { measure: 'flood: cwm event-loop lag max', value: lagMaxS * 1000, unit: 'ms' },
        { measure: 'flood: pipelined requests written', value: Math.round(written / 1048576), unit: 'MiB' },
        { measure: 'flood: backpressure actions (paused, throttled, refused)', value: pressure, unit: 'count' },
      ];
    } finally {
      clearInterval(rssTimer);
      for (const s of sockets) s.destroy();
    }
  });
}
