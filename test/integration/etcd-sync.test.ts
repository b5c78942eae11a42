/**
 * etcd backend against a real etcd and real cwm processes: startup load
 * (paginated), live changes, invalid values, hostile names, two instances.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { health, metric, waitForLog, waitForStatus, webhookStatus } from '../helpers/cwm-http.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { waitFor } from '../helpers/ports.js';
import { LOG_HOOK, STRICT_HOOK, etcdEnv } from '../helpers/etcd-config.js';


let etcd: EtcdCluster;
let cwm: CwmProcess;
const others: CwmProcess[] = [];

function cwmEnv(extra: Record<string, string> = {}): Record<string, string> {
  return etcdEnv(etcd.endpoints, { ETCD_NAMESPACE: 'ops', ...extra });
}

before(async () => {
  etcd = await startEtcd(1);
  for (const id of ['h1', 'h2', 'h3', 'h4', 'h5']) await etcd.ctl('put', `/cwm/team-a/webhooks/${id}`, LOG_HOOK);
  await etcd.ctl('put', '/cwm/ops/webhooks/deploy', LOG_HOOK);
  // Not in the layout: read past, ignored.
  await etcd.ctl('put', '/cwm/README', 'not config');
  await etcd.ctl('put', '/cwm/team-a/notes/x', '{}');
  await etcd.ctl('put', '/cwm-other/team-a/webhooks/h9', LOG_HOOK);
  // A page of 2 keys forces several pages for the startup read.
  cwm = await startCwm(cwmEnv({ ETCD_PAGE_SIZE: '2' }));
});

after(async () => {
  for (const c of [cwm, ...others]) if (c) assert.equal(await c.stop(), 0);
  await etcd?.destroy();
});

test('loads every key at startup, in pages, and serves both routes', async () => {
  for (const id of ['h1', 'h2', 'h3', 'h4', 'h5']) assert.equal(await webhookStatus(cwm, `/webhook/team-a/${id}`), 200, id);
  assert.equal(await webhookStatus(cwm, '/webhook/ops/deploy'), 200);
  assert.equal(await webhookStatus(cwm, '/webhook/deploy'), 200, '/webhook/<id> resolves in ETCD_NAMESPACE');
  assert.equal(await webhookStatus(cwm, '/webhook/h1'), 404, 'h1 is not in ETCD_NAMESPACE');
  assert.equal(await webhookStatus(cwm, '/webhook/team-a/h9'), 404, 'keys outside the prefix are not loaded');
  const read = await waitForLog(cwm, 'etcd prefix read');
  assert.equal(read.entries, 6);
  assert.ok(Number(read.pages) >= 4, `paginated read (pages=${String(read.pages)})`);
  assert.deepEqual(await health(cwm), { status: 200, etcd: 'healthy' });
  assert.equal(await metric(cwm, 'cwm_config_source_connected'), 1);
});

test('live put, change and delete are served', async () => {
  await etcd.ctl('put', '/cwm/team-b/webhooks/new', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/team-b/new', 200);
  await etcd.ctl('put', '/cwm/team-b/webhooks/new', STRICT_HOOK);
  await waitForStatus(cwm, '/webhook/team-b/new', 422);
  await etcd.ctl('del', '/cwm/team-b/webhooks/new');
  await waitForStatus(cwm, '/webhook/team-b/new', 404);
  await etcd.ctl('put', '/cwm/ops/webhooks/live', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/live', 200);
  await etcd.ctl('del', '/cwm/ops/webhooks/live');
  await waitForStatus(cwm, '/webhook/live', 404);
});

test('an invalid value keeps the previous version (or stays absent); other keys are unaffected', async () => {
  const invalidBefore = await metric(cwm, 'cwm_config_invalid_total', 'kind="webhook"');
  await etcd.ctl('put', '/cwm/team-a/webhooks/h1', STRICT_HOOK);
  await waitForStatus(cwm, '/webhook/team-a/h1', 422);

  // Not JSON on an existing key: the strict version stays active.
  await etcd.ctl('put', '/cwm/team-a/webhooks/h1', '{"module": "log",');
  // Schema-invalid on a key that never existed: stays absent.
  await etcd.ctl('put', '/cwm/team-a/webhooks/bad', JSON.stringify({ module: 'log', data_type: 'xml' }));
  // A later valid change to another key still applies.
  await etcd.ctl('put', '/cwm/team-a/webhooks/h2', STRICT_HOOK);
  await waitForStatus(cwm, '/webhook/team-a/h2', 422);

  await waitFor(async () => (await metric(cwm, 'cwm_config_invalid_total', 'kind="webhook"')) >= invalidBefore + 2, 10_000, 'invalid counter raised twice');
  const h1 = await waitForLog(cwm, 'invalid config entry ignored; previous version stays active', { key: '/cwm/team-a/webhooks/h1' });
  assert.match(String(h1.reason), /not valid JSON/);
  const bad = await waitForLog(cwm, 'invalid config entry ignored; entry stays absent', { key: '/cwm/team-a/webhooks/bad' });
  assert.match(String(bad.reason), /schema/);

  assert.equal(await webhookStatus(cwm, '/webhook/team-a/h1'), 422, 'previous (strict) version of h1 still active');
  assert.equal(await webhookStatus(cwm, '/webhook/team-a/bad'), 404);
  assert.equal(await webhookStatus(cwm, '/webhook/team-a/h3'), 200);

  // Fixing the value applies it.
  await etcd.ctl('put', '/cwm/team-a/webhooks/bad', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/team-a/bad', 200);
});

test('__proto__, constructor and toString work as namespace and as id', async () => {
  const names = ['__proto__', 'constructor', 'toString'];
  for (const ns of names) for (const id of names) await etcd.ctl('put', `/cwm/${ns}/webhooks/${id}`, LOG_HOOK);
  for (const id of names) await etcd.ctl('put', `/cwm/ops/webhooks/${id}`, LOG_HOOK);
  for (const ns of names) for (const id of names) await waitForStatus(cwm, `/webhook/${ns}/${id}`, 200);
  for (const id of names) await waitForStatus(cwm, `/webhook/${id}`, 200);
  // A name that is only "inherited" from Object.prototype must never resolve.
  assert.equal(await webhookStatus(cwm, '/webhook/__proto__/hasOwnProperty'), 404);

  await etcd.ctl('del', '/cwm/__proto__/webhooks/constructor');
  await etcd.ctl('del', '/cwm/toString/webhooks/__proto__');
  await etcd.ctl('del', '/cwm/ops/webhooks/__proto__');
  await waitForStatus(cwm, '/webhook/__proto__/constructor', 404);
  await waitForStatus(cwm, '/webhook/toString/__proto__', 404);
  await waitForStatus(cwm, '/webhook/__proto__', 404);
  assert.equal(await webhookStatus(cwm, '/webhook/__proto__/toString'), 200, 'siblings stay');
  assert.equal(await webhookStatus(cwm, '/webhook/constructor'), 200);

  // Deleting the last id of a namespace removes the namespace without disturbing the others.
  await etcd.ctl('del', '--prefix', '/cwm/constructor/');
  for (const id of names) await waitForStatus(cwm, `/webhook/constructor/${id}`, 404);
  assert.equal(await webhookStatus(cwm, '/webhook/__proto__/__proto__'), 200);
});

test('two instances on one etcd both serve a new key', async () => {
  const second = await startCwm(cwmEnv());
  others.push(second);
  await etcd.ctl('put', '/cwm/shared/webhooks/both', LOG_HOOK);
  await waitForStatus(cwm, '/webhook/shared/both', 200);
  await waitForStatus(second, '/webhook/shared/both', 200);
  await etcd.ctl('del', '/cwm/shared/webhooks/both');
  await waitForStatus(cwm, '/webhook/shared/both', 404);
  await waitForStatus(second, '/webhook/shared/both', 404);
  await waitForLog(second, 'etcd watch established');
});

test('writes racing the startup read are all applied: nothing lost between read and watch', async () => {
  const client = new Etcd3({ hosts: etcd.endpoints });
  try {
    let stop = false;
    let written = 0;
    // Puts and deletes keep landing while the new instance reads (one key per page) and starts watching.
    const writer = (async () => {
      for (let i = 0; !stop || i < 60; i++) {
        await client.put(`/cwm/race/webhooks/k${i}`).value(LOG_HOOK);
        if (i % 3 === 2) await client.delete().key(`/cwm/race/webhooks/k${i - 1}`);
        written = i + 1;
      }
    })();
    const racer = await startCwm(cwmEnv({ ETCD_PAGE_SIZE: '1' }));
    others.push(racer);
    stop = true;
    await writer;
    const last = await client.put('/cwm/race/webhooks/last').value(LOG_HOOK).exec();
    await waitForStatus(racer, '/webhook/race/last', 200);
    for (let i = 0; i < written; i++) {
      const expected = i % 3 === 1 && i + 1 < written ? 404 : 200;
      assert.equal(await webhookStatus(racer, `/webhook/race/k${i}`), expected, `k${i}`);
    }
    assert.equal(await metric(racer, 'cwm_config_revision'), Number(last.header.revision), 'applied up to the store revision');
  } finally {
    client.close();
  }
});
