/**
 * CWM's own GitHub config (`hmac` with header X-Hub-Signature-256) against a
 * running cwm: GitHub sends `sha256=<hex>`, which CWM accepts and cwm used
 * to refuse with 401. Signatures are made with openssl, not with cwm's code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';

const SECRET = 'github_webhook_secret';
let dir: ConfigDir;
let cwm: CwmProcess;

function opensslHex(body: string): string {
  const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', SECRET, '-hex'], { input: body }).toString();
  const hex = /([0-9a-f]{64})\s*$/.exec(out)?.[1];
  assert.ok(hex, out);
  return hex;
}

before(async () => {
  // From CWM's config/examples/webhooks.example.json.
  dir = configDirWith({ github_webhook: { data_type: 'json', module: 'log', hmac: { secret: SECRET, header: 'X-Hub-Signature-256', algorithm: 'sha256' } } });
  cwm = await startCwm({ CONFIG_BACKEND: 'file', CONFIG_DIR: dir.path });
});

after(async () => {
  if (cwm) assert.equal(await cwm.stop(), 0);
  dir?.remove();
});

test('a GitHub-format signature (sha256=<hex>) is accepted; bare hex too; wrong or missing ones are 401', async () => {
  const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
  const hex = opensslHex(body);
  for (const signature of [`sha256=${hex}`, hex, `SHA256=${hex.toUpperCase()}`]) {
    const r = await cwm.post('/webhook/github_webhook', body, { 'x-hub-signature-256': signature, 'x-github-delivery': `d-${signature.length}-${signature[0]}` });
    assert.equal(r.status, 200, signature);
  }
  assert.equal((await cwm.post('/webhook/github_webhook', body, { 'x-hub-signature-256': `sha256=${opensslHex(`${body} `)}` })).status, 401);
  assert.equal((await cwm.post('/webhook/github_webhook', body, { 'x-hub-signature-256': `sha1=${hex}` })).status, 401);
  assert.equal((await cwm.post('/webhook/github_webhook', body)).status, 401);
  const line = cwm.logs.find((l) => l.msg === 'webhook received');
  assert.ok(line);
  assert.doesNotMatch(JSON.stringify(line), new RegExp(hex), 'the signature header is not logged');
});
