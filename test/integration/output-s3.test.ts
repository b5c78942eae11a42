/**
 * `s3` against s3rver (a real S3 protocol server, its own process): CWM's
 * documented webhook and connection delivered end to end and read back;
 * s3rver killed mid-traffic and restarted: every 2xx is an object in the
 * bucket, 503s come within OUTPUT_TIMEOUT_MS.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { createBucket, getObject, listKeys, startS3rver, type S3Server } from '../helpers/s3rver.js';
import { outage, tally } from '../helpers/broker-outage.js';
import { deliveryUuid } from '../../src/outputs/s3.js';

const OUTPUT_TIMEOUT_MS = 1000;

let s3rver: S3Server;
let s3: S3Client;
let dir: ConfigDir;
let cwm: CwmProcess;

before(async () => {
  s3rver = await startS3rver();
  s3 = s3rver.client();
  await createBucket(s3, 'my-webhook-bucket');
  await createBucket(s3, 'faults');
  dir = makeConfigDir();
  // CWM's docs (docs/modules/s3.md), with endpoint_url pointing at s3rver and the keys from the environment as CWM writes them.
  dir.write('connections.json', {
    s3_storage: { type: 's3', aws_access_key_id: '{$AWS_ACCESS_KEY_ID}', aws_secret_access_key: '{$AWS_SECRET_ACCESS_KEY}', region: 'us-east-1', endpoint_url: s3rver.endpoint },
  });
  dir.write('webhooks.json', {
    s3_archival: {
      data_type: 'json',
      module: 's3',
      connection: 's3_storage',
      'module-config': { bucket: 'my-webhook-bucket', prefix: 'webhooks/archive', filename_pattern: 'webhook_{timestamp}_{uuid}.json', include_headers: true },
      authorization: 'Bearer s3_secret',
    },
    f: { module: 's3', connection: 's3_storage', 'module-config': { bucket: 'faults' } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS), AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', CONFIG_ENV_ALLOWLIST: '^AWS_', LOG_LEVEL: 'info' });
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  s3.destroy();
  await s3rver.destroy();
  dir.remove();
});

test("CWM's documented s3 webhook: one object per delivery under prefix/YYYY/MM/DD/HH/, pretty JSON, headers as metadata, credentials not stored", async () => {
  const before = Date.now();
  const res = await cwm.post('/webhook/s3_archival', { order: { id: 'A-1' }, items: [1, 2] }, { authorization: 'Bearer s3_secret', 'x-github-delivery': 'gh-s3-1', 'x-custom-header': 'yes' });
  assert.equal(res.status, 200, JSON.stringify(cwm.logs.filter((l) => l.level !== 30).slice(-3)));
  const keys = await listKeys(s3, 'my-webhook-bucket');
  assert.equal(keys.length, 1);
  const key = keys[0] ?? '';
  const at = new Date(before);
  const hour = `${at.getUTCFullYear()}/${String(at.getUTCMonth() + 1).padStart(2, '0')}/${String(at.getUTCDate()).padStart(2, '0')}/`;
  assert.ok(key.startsWith(`webhooks/archive/${hour}`), key);
  assert.match(key, new RegExp(`^webhooks/archive/\\d{4}/\\d{2}/\\d{2}/\\d{2}/webhook_\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{6}_${deliveryUuid('gh-s3-1')}\\.json$`));
  const obj = await getObject(s3, 'my-webhook-bucket', key);
  assert.equal(obj.body, JSON.stringify({ order: { id: 'A-1' }, items: [1, 2] }, null, 2));
  assert.equal(obj.contentType, 'application/json');
  assert.equal(obj.metadata.x_custom_header, 'yes');
  assert.equal(obj.metadata.cwm_delivery_id, 'gh-s3-1');
  assert.equal(obj.metadata.authorization, undefined, 'credentials are not stored');
  assert.ok(!JSON.stringify(obj.metadata).includes('s3_secret'));

  const wrong = await cwm.post('/webhook/s3_archival', { x: 1 }, { authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  assert.equal((await listKeys(s3, 'my-webhook-bucket')).length, 1, 'a refused request stores nothing');
});


test('s3rver killed mid-traffic and restarted: 503 within the timeout, 200 again after, no acknowledged object missing', async (t: TestContext) => {
  const drill = await outage(cwm, '/webhook/f', s3rver, OUTPUT_TIMEOUT_MS, 's3f');
  const unfinished = s3rver.dropUnfinishedObjects();
  const keys = await listKeys(s3, 'faults');
  const stored = new Set(keys.map((k) => /webhook_(.+)\.json$/.exec(k)?.[1]));
  // Objects are named by the delivery's UUID: the set of acknowledged ids found is what tally checks.
  const found = new Set(drill.acked.filter((id) => stored.has(deliveryUuid(id))));
  t.diagnostic(`${tally('s3 fault (objects)', drill, found)} objects=${keys.length} unfinished_dropped=${unfinished}`);
});
