/**
 * The pieces behind CWM's corpus forms: DEFAULT_CONNECTIONS and the rewrite
 * of connection-less outputs, CWM's redis block, s3 key aliases, X-Real-IP,
 * case folding of static keys, payload schema drafts, save_to_disk names.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { compileCidrs } from '../../src/auth/cidr.js';
import { clientIpResolver } from '../../src/auth/client-ip.js';
import { caseFolded } from '../../src/auth/constant-time.js';
import { normalizeCwmForms } from '../../src/config/cwm-forms.js';
import { judgeConfig } from '../../src/config/judge.js';
import { draftOf, UnknownDraftError } from '../../src/config/payload-drafts.js';
import { compilePayloadSchema } from '../../src/config/validation.js';
import type { Delivery } from '../../src/delivery/types.js';
import { renderFilename } from '../../src/outputs/save-to-disk.js';
import { parseDefaultConnections, SettingsError } from '../../src/settings.js';

const defaults = new Map([['redis', 'cache'], ['postgresql', 'pg_main']]);

test('DEFAULT_CONNECTIONS parses type=name pairs; malformed and conflicting values are refused', () => {
  assert.deepEqual([...parseDefaultConnections(' redis=cache , postgresql=pg_main ')], [['redis', 'cache'], ['postgresql', 'pg_main']]);
  assert.equal(parseDefaultConnections(undefined).size, 0);
  assert.equal(parseDefaultConnections('').size, 0);
  assert.throws(() => parseDefaultConnections('redis'), SettingsError);
  assert.throws(() => parseDefaultConnections('redis=a b'), SettingsError);
  assert.throws(() => parseDefaultConnections('redis=a,redis=b'), /two connections for type redis/);
});

test('an output naming no connection gets the default of its type; a named one, log and unknown modules are left alone', () => {
  const hook = normalizeCwmForms('webhook', { module: 'postgresql' }, defaults) as Record<string, unknown>;
  assert.equal(hook.connection, 'pg_main');
  const named = normalizeCwmForms('webhook', { module: 'postgresql', connection: 'other' }, defaults) as Record<string, unknown>;
  assert.equal(named.connection, 'other');
  assert.ok(!Object.hasOwn(normalizeCwmForms('webhook', { module: 'log' }, defaults) as object, 'connection'));
  assert.ok(!Object.hasOwn(normalizeCwmForms('webhook', { module: 'kafka' }, defaults) as object, 'connection'), 'no kafka default');
  assert.ok(!Object.hasOwn(normalizeCwmForms('webhook', { module: 'nope' }, defaults) as object, 'connection'));
  const chain = normalizeCwmForms('webhook', { chain: ['log', { module: 'redis_publish' }, 'postgresql'] }, defaults) as { chain: Record<string, unknown>[] };
  assert.deepEqual(chain.chain.map((e) => e.connection), [undefined, 'cache', 'pg_main']);
});

test("a chain entry inherits the webhook's topic, queue_name and, where it sends through one, connection", () => {
  const hook = normalizeCwmForms('webhook', { topic: 't', queue_name: 'q', connection: 'k', chain: ['log', { module: 'kafka' }, { module: 'kafka', topic: 'own', connection: 'mine' }] }, defaults) as { chain: Record<string, unknown>[] };
  assert.deepEqual(hook.chain[0], { module: 'log', topic: 't', queue_name: 'q' }, 'log takes no connection');
  assert.deepEqual(hook.chain[1], { module: 'kafka', topic: 't', queue_name: 'q', connection: 'k' });
  assert.deepEqual(hook.chain[2], { module: 'kafka', topic: 'own', connection: 'mine', queue_name: 'q' });
  const env = { envAllowlist: /^CWM_/, env: {} };
  assert.deepEqual(judgeConfig('webhook', { topic: 'events', chain: [{ module: 'kafka', connection: 'k' }] }, env), []);
});

test("CWM's redis block: its channel becomes module-config.channel once a connection is known; otherwise the schema refuses it", () => {
  const hook = normalizeCwmForms('webhook', { module: 'redis_publish', redis: { host: 'redis', port: 6379, channel: 'events' } }, defaults) as Record<string, unknown>;
  assert.deepEqual(hook, { module: 'redis_publish', connection: 'cache', 'module-config': { channel: 'events' } });
  const wins = normalizeCwmForms('webhook', { module: 'redis_publish', connection: 'c', 'module-config': { channel: 'own' }, redis: { channel: 'block' } }) as Record<string, unknown>;
  assert.deepEqual(wins['module-config'], { channel: 'own' }, 'module-config wins');
  const env = { envAllowlist: /^CWM_/, env: {} };
  const refused = judgeConfig('webhook', { module: 'redis_publish', redis: { host: 'redis', channel: 'events' } }, env);
  assert.ok(refused.includes("/ must have required property 'connection' (name one, or the operator sets DEFAULT_CONNECTIONS for its type)"), refused.join(' | '));
  assert.ok(refused.includes('/ must NOT have additional properties: redis'), refused.join(' | '));
  const odd = judgeConfig('webhook', { module: 'redis_publish', connection: 'c', redis: { channel: 'e', password: 'p' } }, env);
  assert.ok(odd.includes('/ must NOT have additional properties: redis'), 'a block with fields CWM does not read is not rewritten');
  assert.deepEqual(judgeConfig('webhook', { module: 'redis_publish', redis: { channel: 'e' } }, { envAllowlist: /^CWM_/, env: { DEFAULT_CONNECTIONS: 'redis=cache' } }), []);
});

test('s3 connections: access_key_id / secret_access_key are the aws_ names; the aws_ names win', () => {
  assert.deepEqual(normalizeCwmForms('connection', { type: 's3', access_key_id: 'a', secret_access_key: 's' }), { type: 's3', aws_access_key_id: 'a', aws_secret_access_key: 's' });
  const both = normalizeCwmForms('connection', { type: 's3', access_key_id: 'x', aws_access_key_id: 'a', aws_secret_access_key: 's' }) as Record<string, unknown>;
  assert.equal(both.aws_access_key_id, 'a');
  assert.equal(both.access_key_id, 'x', 'left for the schema to refuse');
  assert.deepEqual(normalizeCwmForms('connection', { type: 'redis', access_key_id: 'a' }), { type: 'redis', access_key_id: 'a' });
});

test('http_webhook custom_headers (CWM\'s docs) is headers; given both, headers wins and custom_headers is refused', () => {
  const env = { envAllowlist: /^CWM_/, env: {} };
  const out = normalizeCwmForms('webhook', { module: 'http_webhook', 'module-config': { url: 'https://api.example.com/h', custom_headers: { 'X-Source': 'cwm' } } }) as { 'module-config': Record<string, unknown> };
  assert.deepEqual(out['module-config'], { url: 'https://api.example.com/h', headers: { 'X-Source': 'cwm' } });
  assert.deepEqual(judgeConfig('webhook', { module: 'http_webhook', 'module-config': { url: 'https://api.example.com/h', custom_headers: { 'X-Source': 'cwm' } } }, env), []);
  const both = judgeConfig('webhook', { module: 'http_webhook', 'module-config': { url: 'https://api.example.com/h', headers: { a: 'b' }, custom_headers: { c: 'd' } } }, env);
  assert.ok(both.some((e) => e.includes('custom_headers')), both.join('; '));
  const chained = normalizeCwmForms('webhook', { chain: [{ module: 'http_webhook', 'module-config': { url: 'https://x.example/h', custom_headers: { k: 'v' } } }] }) as { chain: { 'module-config': Record<string, unknown> }[] };
  assert.deepEqual(chained.chain[0]?.['module-config'].headers, { k: 'v' });
  const other = normalizeCwmForms('webhook', { module: 'websocket', 'module-config': { url: 'ws://x.example', custom_headers: { k: 'v' } } }) as { 'module-config': Record<string, unknown> };
  assert.ok(Object.hasOwn(other['module-config'], 'custom_headers'), 'only http_webhook has the alias');
});

test('a "__proto__" output name or key stays an ordinary field through the rewrite', () => {
  const value = JSON.parse('{"module":"redis_publish","__proto__":{"connection":"evil"}}') as Record<string, unknown>;
  const out = normalizeCwmForms('webhook', value, defaults) as Record<string, unknown>;
  assert.equal(out.connection, 'cache');
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
});

function req(peer: string, headers: Record<string, string>): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

test('X-Real-IP names the client only from a trusted proxy and only without X-Forwarded-For', () => {
  const resolve = clientIpResolver(compileCidrs(['10.0.0.0/8']));
  assert.equal(resolve(req('10.0.0.2', { 'x-real-ip': '198.51.100.7' })), '198.51.100.7');
  assert.equal(resolve(req('10.0.0.2', { 'x-real-ip': ' ::ffff:198.51.100.8 ' })), '198.51.100.8');
  assert.equal(resolve(req('203.0.113.9', { 'x-real-ip': '10.1.1.1' })), '203.0.113.9', 'untrusted peer');
  assert.equal(resolve(req('10.0.0.2', { 'x-forwarded-for': '198.51.100.1', 'x-real-ip': '198.51.100.2' })), '198.51.100.1');
  assert.equal(resolve(req('10.0.0.2', { 'x-real-ip': '' })), '10.0.0.2');
  assert.equal(clientIpResolver(null)(req('203.0.113.9', { 'x-real-ip': '10.1.1.1' })), '203.0.113.9');
});

test('case folding of static keys: identity when sensitive, lower-case otherwise, absent stays absent', () => {
  assert.equal(caseFolded(true)('AbC'), 'AbC');
  assert.equal(caseFolded(false)('AbC'), 'abc');
  assert.equal(caseFolded(false)(undefined), undefined);
});

test('payload schema drafts by $schema: http/https and "#" name the same draft; others are refused', () => {
  assert.equal(draftOf({}), 'draft-07');
  assert.equal(draftOf({ $schema: 'https://json-schema.org/draft-04/schema' }), 'draft-04');
  assert.equal(draftOf({ $schema: 'http://json-schema.org/draft/2020-12/schema#' }), '2020-12');
  assert.throws(() => draftOf({ $schema: 'http://json-schema.org/draft-03/schema#' }), UnknownDraftError);
  assert.throws(() => draftOf({ $schema: 42 }), /got number/);
  // Every draft keeps RE2 and the recursion check.
  for (const $schema of ['http://json-schema.org/draft-04/schema#', 'http://json-schema.org/draft-06/schema#', 'https://json-schema.org/draft/2019-09/schema', 'https://json-schema.org/draft/2020-12/schema']) {
    assert.throws(() => compilePayloadSchema({ $schema, type: 'string', pattern: '^(a+)+(?=b)' }), /linear-time regex engine/, $schema);
    assert.throws(() => compilePayloadSchema({ $schema, anyOf: [{ $ref: '#' }] }), /infinite recursion/, $schema);
    assert.equal(compilePayloadSchema({ $schema, type: 'string', pattern: '^(a+)+$' })(`${'a'.repeat(5000)}!`), false, `${$schema}: linear time on a catastrophic pattern`);
  }
});

test('save_to_disk names: {uuid} random, {timestamp} as CWM writes it, {webhook_id}', () => {
  const delivery = { id: 'd', webhookId: 'hook_1', receivedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 678) } as Delivery;
  assert.equal(renderFilename('{webhook_id}_{timestamp}.json', delivery), 'hook_1_2026-01-02T03-04-05.678000.json');
  const a = renderFilename('{uuid}.txt', delivery);
  assert.match(a, /^[0-9a-f-]{36}\.txt$/);
  assert.notEqual(a, renderFilename('{uuid}.txt', delivery));
  const env = { envAllowlist: /^CWM_/, env: { SAVE_TO_DISK_BASE_DIR: '/srv/cwm' } };
  assert.deepEqual(judgeConfig('webhook', { module: 'save_to_disk', 'module-config': { filename_template: 'x/{uuid}' } }, env), ['/module-config/filename_template may hold only letters, digits, "_", "-", "." besides {uuid}, {timestamp} and {webhook_id}']);
  assert.deepEqual(judgeConfig('webhook', { module: 'save_to_disk', 'module-config': { filename_pattern: '..{uuid}' } }, env), ['/module-config/filename_pattern must not contain ".."']);
  assert.deepEqual(judgeConfig('webhook', { module: 'save_to_disk', 'module-config': { filename_template: '.{uuid}' } }, env), ['/module-config/filename_template must not start with "."']);
  assert.deepEqual(judgeConfig('webhook', { module: 'save_to_disk', 'module-config': { create_dirs: false } }, env), ['/module-config/create_dirs must be equal to constant']);
});
