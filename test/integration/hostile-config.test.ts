/**
 * Malformed and oversized config values (file backend; the manager path is
 * the one etcd values take too): each bad entry is refused with a logged
 * reason while good entries keep serving, a broken file keeps the previous
 * config, and the process never crashes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

let dir: ConfigDir;
let cwm: CwmProcess;

/** A json_schema nested n levels deep, as JSON text (too deep for JSON.stringify's recursion). */
const deepSchema = (n: number): string => `${'{"type":"object","properties":{"x":'.repeat(n)}{}${'}}'.repeat(n)}`;

const BAD: Record<string, unknown> = {
  not_object: 'log',
  number: 42,
  array: [{ module: 'log' }],
  nothing: null,
  no_module: {},
  unknown_module: { module: 'ftp' },
  unknown_field: { module: 'log', authorisation: 'Bearer typo' },
  wrong_types: { module: 'log', max_body_bytes: '1MB', rate_limit: { max_requests: -1, window_seconds: 0 } },
  huge_string: { module: 'log', authorization: `Bearer ${'x'.repeat(300 * 1024)}` },
  bad_cidr: { module: 'log', ip_whitelist: ['10.0.0.0/99'] },
  bad_cidr_text: { module: 'log', ip_whitelist: ['not-an-ip'] },
  bad_whsec: { module: 'log', signature: { scheme: 'standard-webhooks', secret: 'whsec_***' } },
  bad_scheme: { module: 'log', signature: { scheme: 'paypal', secret: 's' } },
  bad_schema: { module: 'log', json_schema: { type: 'nope' } },
  bad_regex: { module: 'log', json_schema: { type: 'string', pattern: '(' } },
  too_many_secrets: { module: 'log', hmac: { secret: Array.from({ length: 11 }, (_, i) => `s${i}`) } },
  both_module_and_chain: { module: 'log', chain: [{ module: 'log' }] },
  env_not_allowed: { module: 'log', authorization: '{$HOME}' },
  env_unset: { module: 'log', authorization: '{$CWM_NOT_SET_ANYWHERE}' },
  bad_header_name: { module: 'log', header_auth: { header_name: 'X Bad: y', api_key: 'k' } },
};

before(async () => {
  const entries = JSON.stringify({ good: { module: 'log' }, ...BAD, 'bad name!': { module: 'log' }, __proto__x: { module: 'log' } });
  // Spliced in as text: one schema just under the value size cap (deep recursion inside cwm), one far over it.
  dir = configDirWith(`${entries.slice(0, -1)}, "deep_schema": {"module": "log", "json_schema": ${deepSchema(5000)}}, "deeper_schema": {"module": "log", "json_schema": ${deepSchema(50_000)}}}`);
  cwm = await startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'cfg' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
});

test('each malformed entry is refused with a logged reason; good entries serve', async () => {
  assert.equal((await cwm.post('/webhook/good', {})).status, 200);
  assert.equal((await cwm.post('/webhook/__proto__x', {})).status, 200);
  for (const id of [...Object.keys(BAD), 'deep_schema', 'deeper_schema']) {
    assert.equal((await cwm.post(`/webhook/${id}`, {})).status, 404, id);
    const logged = await waitFor(() => cwm.logs.find((l) => (l.msg === 'invalid config entry ignored; entry stays absent' && String(l.key).endsWith(`#${id}`)) || (String(l.msg).endsWith('entry ignored') && l.name === id)), 5000, `${id} refusal logged`);
    assert.ok(typeof logged.reason === 'string' && logged.reason.length > 0, `${id} refusal has a reason`);
    assert.ok(String(logged.reason).length < 2000, `${id} reason stays short`);
  }
  await waitFor(() => cwm.logs.some((l) => l.msg === 'config entry ignored' && String(l.reason).includes('must match') && l.name === 'bad name!'), 5000, 'bad name reported');
});

test('a bad new version keeps the previous version of that entry', async () => {
  dir.write('webhooks.json', { good: { module: 'log', ip_whitelist: ['999.0.0.0/8'] } });
  await waitFor(() => cwm.logs.some((l) => l.msg === 'invalid config entry ignored; previous version stays active'), 5000, 'refusal logged');
  assert.equal((await cwm.post('/webhook/good', {})).status, 200, 'previous (open) version still serves');
});

test('garbage, binary, huge and wrongly shaped files keep the whole previous config', async () => {
  const variants: (string | Buffer)[] = [randomBytes(4096), '[1,2,3]', '"just a string"', 'null', `{"good": ${'['.repeat(100_000)}`, Buffer.alloc(5 * 1024 * 1024, 0x7b)];
  for (const [i, content] of variants.entries()) {
    const before = cwm.logs.filter((l) => l.msg === 'config reload failed; previous config stays active').length;
    dir.writeText('webhooks.json', content);
    await waitFor(() => cwm.logs.filter((l) => l.msg === 'config reload failed; previous config stays active').length > before, 5000, `variant ${i} refused`);
    assert.equal((await cwm.post('/webhook/good', {})).status, 200, `variant ${i}`);
  }
  assert.equal((await fetch(`${cwm.baseUrl}/health`)).status, 200);
});
