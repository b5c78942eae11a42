/**
 * aws_sqs and gcp_pubsub (CWM modules cwm refuses): CWM's documented configs
 * are rejected with the reason, by `cwm validate` and by a serving cwm (log
 * line; the webhook stays absent → 404), never as an unknown module.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { makeConfigDir } from '../helpers/config-dir.js';
import { startCwm } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

// CWM's docs: docs/modules/aws-sqs.md and docs/modules/gcp-pubsub.md.
const webhooks = {
  sqs_webhook: { data_type: 'json', module: 'aws_sqs', connection: 'aws_sqs_conn', 'module-config': { queue_url: 'https://sqs.us-east-1.amazonaws.com/123456789/webhook-queue', message_group_id: null, message_deduplication_id: null }, authorization: 'Bearer token' },
  gcp_pubsub_webhook: { data_type: 'json', module: 'gcp_pubsub', connection: 'gcp_pubsub_conn', 'module-config': { topic: 'webhook-events', project_id: 'my-project' }, authorization: 'Bearer token' },
};

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'cwm-unsupported-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

test('cwm validate refuses aws_sqs and gcp_pubsub with "not supported by cwm" and the reason', async () => {
  const path = join(dir, 'webhooks.json');
  writeFileSync(path, JSON.stringify(webhooks));
  const r = await runCli(['validate', '--many', path]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /sqs_webhook: refused\n\s+\/module aws_sqs is not supported by cwm: no SQS server/);
  assert.match(r.stdout, /gcp_pubsub_webhook: refused\n\s+\/module gcp_pubsub is not supported by cwm: no Pub\/Sub server/);
  assert.doesNotMatch(r.stdout, /unknown|allowed values/);
});

test('a serving cwm logs the refusal and keeps the webhook absent', async () => {
  const config = makeConfigDir();
  config.write('webhooks.json', webhooks);
  const cwm = await startCwm({ CONFIG_DIR: config.path, LOG_LEVEL: 'info' });
  try {
    const line = await waitFor(() => cwm.logs.find((l) => String(l.reason ?? '').includes('aws_sqs is not supported by cwm')), 10_000, 'refusal logged');
    assert.equal(line.code, 'CWM_CONFIG_INVALID');
    await waitFor(() => cwm.logs.find((l) => String(l.reason ?? '').includes('gcp_pubsub is not supported by cwm')), 10_000, 'refusal logged');
    const res = await cwm.post('/webhook/sqs_webhook', { a: 1 }, { authorization: 'Bearer token' });
    assert.equal(res.status, 404);
  } finally {
    assert.equal(await cwm.stop(), 0);
    config.remove();
  }
});
