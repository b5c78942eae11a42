/**
 * Secrets never reach logs or answers: a real cwm process at debug level
 * handles good and bad credentials of every kind and broken config values
 * that contain secrets; then every captured log line is searched for them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

const SECRETS = {
  CWM_SECRET_TOKEN: 'tok-Zq81-never-log',
  CWM_SECRET_PW: 'pw-Hh27-never-log',
  CWM_SECRET_KEY: 'key-Lp55-never-log',
  CWM_SECRET_QKEY: 'qkey-Rt09-never-log',
  CWM_SECRET_HMAC: 'hmac-Ws31-never-log',
  CWM_SECRET_GH: 'gh-Nb64-never-log',
};
const OUTSIDE_ALLOWLIST = 'aws-Kk77-never-log';
const LITERALS = ['literal-Jd12-never-log', 'cookie-Vx90-never-log', 'broken-Qe44-never-log'];
const ALL = [...Object.values(SECRETS), OUTSIDE_ALLOWLIST, ...LITERALS];

let dir: ConfigDir;
let cwm: CwmProcess;
const webhooks = {
  open: { module: 'log' },
  bearer: { module: 'log', authorization: 'Bearer {$CWM_SECRET_TOKEN}' },
  basic: { module: 'log', basic_auth: { username: 'ops', password: '{$CWM_SECRET_PW}' } },
  hdr: { module: 'log', header_auth: { header_name: 'X-Key', api_key: '{$CWM_SECRET_KEY}' } },
  qry: { module: 'log', query_auth: { api_key: '{$CWM_SECRET_QKEY}' } },
  hm: { module: 'log', hmac: { secret: '{$CWM_SECRET_HMAC}', header: 'X-Signature', prefix: 'sha256=' } },
  gh: { module: 'log', signature: { scheme: 'github', secret: '{$CWM_SECRET_GH}' } },
  not_allowed: { module: 'log', authorization: '{$AWS_SECRET_ACCESS_KEY}' },
  bad_schema: { module: 'log', authorization: LITERALS[0], bogus: true },
};

before(async () => {
  dir = configDirWith(webhooks);
  cwm = await startCwm({ CONFIG_DIR: dir.path, LOG_LEVEL: 'debug', AWS_SECRET_ACCESS_KEY: OUTSIDE_ALLOWLIST, ...SECRETS });
});

after(async () => {
  if (cwm.proc.exitCode === null) await cwm.stop();
});

const hmacHex = (key: string, body: string) => createHmac('sha256', key).update(body).digest('hex');

test('good and bad credentials of every kind; no answer contains a secret', async () => {
  const body = '{"event":"ping"}';
  const cases: [string, Record<string, string>, number][] = [
    ['/webhook/bearer', { authorization: `Bearer ${SECRETS.CWM_SECRET_TOKEN}`, cookie: `session=${LITERALS[1]}` }, 200],
    ['/webhook/bearer', { authorization: `Bearer ${SECRETS.CWM_SECRET_TOKEN}x` }, 401],
    ['/webhook/basic', { authorization: `Basic ${Buffer.from(`ops:${SECRETS.CWM_SECRET_PW}`).toString('base64')}` }, 200],
    ['/webhook/basic', { authorization: `Basic ${Buffer.from('ops:guess').toString('base64')}` }, 401],
    ['/webhook/hdr', { 'x-key': SECRETS.CWM_SECRET_KEY }, 200],
    ['/webhook/hdr', {}, 401],
    [`/webhook/qry?api_key=${SECRETS.CWM_SECRET_QKEY}`, {}, 200],
    ['/webhook/qry?api_key=guess', {}, 401],
    ['/webhook/hm', { 'x-signature': `sha256=${hmacHex(SECRETS.CWM_SECRET_HMAC, body)}` }, 200],
    ['/webhook/gh', { 'x-hub-signature-256': `sha256=${hmacHex(SECRETS.CWM_SECRET_GH, body)}` }, 200],
    ['/webhook/gh', { 'x-hub-signature-256': `sha256=${hmacHex('wrong', body)}` }, 401],
    ['/webhook/open', { authorization: `Bearer ${SECRETS.CWM_SECRET_TOKEN}`, cookie: `s=${LITERALS[1]}`, 'x-api-key': SECRETS.CWM_SECRET_KEY }, 200],
    ['/webhook/not_allowed', {}, 404],
    ['/webhook/bad_schema', {}, 404],
  ];
  for (const [path, headers, status] of cases) {
    const res = await cwm.post(path, body, headers);
    const text = await res.text();
    assert.equal(res.status, status, `${path} ${text}`);
    for (const s of ALL) assert.ok(!text.includes(s), `${path} answer contains a secret`);
  }
});

test('broken config values containing secrets are reported without them', async () => {
  dir.writeText('webhooks.json', `{"open": {"module": "log", "authorization": ${LITERALS[2]}}}`);
  await waitFor(() => cwm.logs.some((l) => l.msg === 'config reload failed; previous config stays active'), 5000, 'reload failure logged');
  dir.write('webhooks.json', webhooks);
  assert.equal((await cwm.post('/webhook/open', {})).status, 200);
});

test('no log line contains a secret, and the refusals were logged with their reasons', async () => {
  assert.equal(await cwm.stop(), 0);
  const text = cwm.logs.map((l) => JSON.stringify(l)).join('\n');
  assert.ok(cwm.logs.length > 10, 'logs were captured');
  for (const s of ALL) assert.ok(!text.includes(s), `a log line contains ${s}`);
  assert.ok(cwm.logs.some((l) => String(l.reason).includes('AWS_SECRET_ACCESS_KEY is not allowed by CONFIG_ENV_ALLOWLIST')));
  assert.ok(cwm.logs.some((l) => String(l.reason).includes('bogus')));
  assert.ok(cwm.logs.some((l) => String(l.reason).includes('not valid JSON')));
  const delivered = cwm.logs.filter((l) => l.msg === 'webhook received');
  assert.ok(delivered.length >= 6, 'deliveries were logged');
  assert.ok(!/\n\s+at /.test(text), 'no stack traces');
});
