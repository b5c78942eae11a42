/**
 * How long /openapi.json and /docs take with many webhooks (the figures in
 * src/http/docs-routes.ts): `npm run build && node dist/scripts/measure-openapi.js [webhooks]`.
 * Half the webhooks have header_auth and a json_schema. The first GET builds, the rest are cached.
 */
import { configDirWith } from '../test/helpers/config-dir.js';
import { startCwm } from '../test/helpers/cwm-process.js';

const n = Number(process.argv[2] ?? 5000);
const hooks: Record<string, unknown> = {};
for (let i = 0; i < n; i++) hooks[`h${i}`] = i % 2 === 1 ? { module: 'log', header_auth: { header_name: 'X-Key', api_key: `k${i}` }, json_schema: { type: 'object', required: ['a'] } } : { module: 'log' };
const dir = configDirWith(hooks);
const cwm = await startCwm({ CONFIG_DIR: dir.path });
try {
  const timed = async (path: string): Promise<{ ms: number; bytes: number }> => {
    const t = performance.now();
    const bytes = (await (await fetch(cwm.baseUrl + path)).text()).length;
    return { ms: Math.round(performance.now() - t), bytes };
  };
  const openapi = [];
  for (let k = 0; k < 5; k++) openapi.push(await timed('/openapi.json'));
  const docs = [];
  for (let k = 0; k < 3; k++) docs.push(await timed('/docs'));
  console.log(JSON.stringify({ webhooks: n, openapi_ms: openapi.map((r) => r.ms), openapi_bytes: openapi[0]?.bytes, docs_ms: docs.map((r) => r.ms), docs_bytes: docs[0]?.bytes }));
} finally {
  await cwm.stop();
  dir.remove();
}
