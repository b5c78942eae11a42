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
import { waitFor } from '../helpers/ports.js';
import { createBucket, getObject, listKeys, startS3rver, type S3Server } from '../helpers/s3rver.js';
import { startTraffic, type Outcome } from '../helpers/traffic.js';
import { deliveryUuid } from '../../src/outputs/s3.js';

const OUTPUT_TIMEOUT_MS = 1000;
const SLACK_MS = 600;

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

const ok = (o: readonly Outcome[], since = 0): Outcome[] => o.filter((x) => x.status === 200 && x.at >= since);
const unavailable = (o: readonly Outcome[], since = 0): Outcome[] => o.filter((x) => x.status === 503 && x.at >= since);

test('s3rver killed mid-traffic and restarted: 503 within the timeout, 200 again after, no acknowledged object missing', async (t: TestContext) => {
  const traffic = startTraffic((id) => cwm.post('/webhook/f', { id }, { 'x-github-delivery': id }), { concurrency: 4, prefix: 's3f' });
  let downAt = 0;
  try {
    await waitFor(() => ok(traffic.outcomes).length >= 100, 20_000, '100 objects acknowledged');
    await s3rver.kill('SIGKILL');
    downAt = Date.now();
    await waitFor(() => unavailable(traffic.outcomes, downAt).length >= 30, 10_000, '503s while s3rver is down');
    await s3rver.restart();
    const upAt = Date.now();
    await waitFor(() => ok(traffic.outcomes, upAt).length >= 100, 20_000, '200s once s3rver is back');
  } finally {
    await traffic.stop();
  }
  const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
  assert.deepEqual(other.map((o) => `${o.id}:${o.status}`), [], 'every answer is 200 or 503');
  const slow = unavailable(traffic.outcomes).filter((o) => o.ms > OUTPUT_TIMEOUT_MS + SLACK_MS);
  assert.deepEqual(slow.map((o) => `${o.id}:${Math.round(o.ms)}ms`), [], '503 within OUTPUT_TIMEOUT_MS');
  const unfinished = s3rver.dropUnfinishedObjects();
  const keys = await listKeys(s3, 'faults');
  const stored = new Set(keys.map((k) => /webhook_(.+)\.json$/.exec(k)?.[1]));
  const acked = ok(traffic.outcomes).map((o) => o.id);
  const missing = acked.filter((id) => !stored.has(deliveryUuid(id)));
  assert.deepEqual(missing, [], '2xx answers whose object is missing');
  assert.ok(unavailable(traffic.outcomes, downAt).length > 0);
  t.diagnostic(`s3 fault: sent=${traffic.outcomes.length} acked=${acked.length} answered503=${unavailable(traffic.outcomes).length} max503ms=${Math.round(Math.max(...unavailable(traffic.outcomes).map((o) => o.ms)))} objects=${keys.length} missing=${missing.length} unfinished_dropped=${unfinished}`);
});
