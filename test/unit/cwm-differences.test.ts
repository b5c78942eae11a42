/** What `cwm validate --many` reports as behaving differently from CWM, per config; never a value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cwmDifferences } from '../../src/config/cwm-differences.js';

const pointers = (kind: 'webhook' | 'connection', config: unknown): string[] => cwmDifferences(kind, config).map((d) => d.pointer);

test('webhook differences point at what causes them', () => {
  assert.deepEqual(pointers('webhook', { module: 'log', data_type: 'blob', credential_cleanup: { enabled: true } }), [], 'a plain blob log webhook behaves as in CWM');
  const config = {
    chain: ['log', { module: 's3', connection: 's', 'module-config': { bucket: 'b', prefix: 'p/' } }],
    'chain-config': { timeout: 5 },
    ip_whitelist: ['10.0.0.1'],
    json_schema: { required: ['{$CWM_X}'] },
    retry: { enabled: true },
    oauth2: { introspection_endpoint: 'https://idp/i' },
    authorization: null,
  };
  assert.deepEqual(pointers('webhook', config), [
    '/chain/0', '/chain/1/module', '/chain/1/module', '/chain/1/module-config/prefix',
    '/ip_whitelist', '/json_schema', '/oauth2', '/json_schema', '/data_type', '/json_schema', '/chain-config', '/chain-config/timeout', '/credential_cleanup', '/retry',
  ]);
});

test("the corpus forms: connection-less outputs, CWM's redis block, case_sensitive, trusted_proxies, filename_template, json_schema without $schema", () => {
  const forms = pointers('webhook', {
    module: 'redis_publish',
    redis: { host: 'h', channel: 'c' },
    header_auth: { api_key: 'k' },
    query_auth: { api_key: 'k', case_sensitive: false },
    trusted_proxies: ['10.0.0.1'],
    json_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema' },
    credential_cleanup: { enabled: true },
  });
  assert.deepEqual(forms.filter((p) => !p.endsWith('/module') && p !== '/data_type'), ['/connection', '/redis', '/json_schema', '/header_auth/case_sensitive', '/trusted_proxies'], 'the one /json_schema line is its 422; it names a draft');
  assert.deepEqual(pointers('webhook', { module: 'save_to_disk', 'module-config': { filename_template: '{uuid}.json' }, data_type: 'blob', credential_cleanup: {} }).filter((p) => p !== '/module'), ['/module-config']);
  assert.ok(!pointers('webhook', { connection: 'k', chain: [{ module: 'kafka' }] }).includes('/chain/0/connection'), 'inherited from the webhook');
  assert.ok(pointers('webhook', { chain: ['postgresql'] }).includes('/chain/0/connection'));
});

test('connection differences, and no value in any note', () => {
  const secret = 'pw-that-must-not-appear';
  const all = [
    ...cwmDifferences('connection', { type: 'clickhouse', port: 9000, password: secret }),
    ...cwmDifferences('connection', { type: 'postgresql', ssl: true, password: secret }),
    ...cwmDifferences('connection', { type: 'mqtt', mqtt_version: '3.1.1', user: 'u', password: secret }),
    ...cwmDifferences('webhook', { module: 'http_webhook', authorization: secret, 'module-config': { url: 'https://x', allowed_hosts: ['x'] } }),
  ];
  assert.deepEqual(all.map((d) => d.pointer).filter((p) => ['/port', '/ssl', '/pool_min_size', '/mqtt_version', '/user', '/module-config/allowed_hosts'].includes(p)), ['/port', '/ssl', '/pool_min_size', '/mqtt_version', '/user', '/module-config/allowed_hosts']);
  for (const d of all) assert.ok(!d.note.includes(secret));
  assert.deepEqual(pointers('connection', { type: 'kafka', bootstrap_servers: 'k:9092' }), []);
});
