import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
const D = '/work/main/dist';
const { gridEntries } = await import(D + '/test/helpers/etcd-seed.js');
const { ConfigManager } = await import(D + '/src/config/manager.js');
const { parseKey } = await import(D + '/src/config/keys.js');
const { ConnectionRegistry } = await import(D + '/src/connections/registry.js');
const { Metrics } = await import(D + '/src/observability/metrics.js');
const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
const m = new ConfigManager({ logger, metrics: new Metrics({ defaultMetrics: false }), connections: new ConnectionRegistry(logger), maxBodyBytes: 1 << 20, envAllowlist: /^CWM_/ });
const entries = gridEntries(5000, 5).map((e) => ({ key: parseKey('/cwm/', e.key), value: Buffer.from(e.value).toString(), source: Buffer.from(e.key).toString() }));
globalThis.gc(); const h0 = process.memoryUsage().heapUsed;
const t = performance.now();
m.replaceAll(entries);
console.log('replaceAll ms', (performance.now() - t).toFixed(0));
entries.length = 0;
globalThis.gc(); const h1 = process.memoryUsage().heapUsed;
console.log('bytes per webhook', ((h1 - h0) / 25000).toFixed(0));
if (process.env.SNAP) {
  const f = v8.writeHeapSnapshot('/tmp/exp/h.heapsnapshot');
  const s = JSON.parse(readFileSync(f, 'utf8'));
  const F = s.snapshot.meta.node_fields; const T = s.snapshot.meta.node_types[0]; const n = F.length;
  const agg = new Map();
  for (let i = 0; i < s.nodes.length; i += n) { const type = T[s.nodes[i]]; const name = s.strings[s.nodes[i + 1]]; const size = s.nodes[i + 3]; const k = type === 'object' || type === 'closure' ? `${type}:${name}` : type; const a = agg.get(k) ?? [0, 0]; a[0] += size; a[1]++; agg.set(k, a); }
  for (const [k, [sz, c]] of [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, 30)) console.log((sz / 1e6).toFixed(2).padStart(7), 'MB', String(c).padStart(8), k);
}
