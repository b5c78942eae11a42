/**
 * Config rules of s3, activemq, zeromq and clickhouse that the schema alone
 * cannot express, and the S3 key template, checked through the receiver's
 * own validate + compile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/validation.js';
import { deliveryUuid, objectKey } from '../../src/outputs/s3.js';
import { judgeWebhook } from '../helpers/judge-webhook.js';


const judge = judgeWebhook;

test('s3: CWM configs are valid; prefix and filename_pattern follow CWM’s rules', () => {
  assert.equal(judge({ module: 's3', connection: 'c', 'module-config': { bucket: 'my-webhook-bucket', prefix: 'webhooks/archive', filename_pattern: 'webhook_{timestamp}_{uuid}.json', include_headers: true, content_type: 'application/json' } }), '');
  assert.equal(judge({ module: 's3', connection: 'c', 'module-config': { bucket: 'my-bucket', prefix: 'webhooks/' } }), '', 'a trailing / is dropped');
  assert.match(judge({ module: 's3', connection: 'c', 'module-config': { bucket: 'b-1', prefix: 'a/../b' } }), /prefix/);
  assert.match(judge({ module: 's3', connection: 'c', 'module-config': { bucket: 'b-1', filename_pattern: 'x/{uuid}' } }), /filename_pattern/);
  assert.match(judge({ module: 's3', connection: 'c', 'module-config': {} }), /schema.*bucket/);
  assert.match(judge({ module: 's3', 'module-config': { bucket: 'b-1' } }), /schema/, 'a connection is required');
});

test('s3 key: prefix/YYYY/MM/DD/HH/filename in UTC; {uuid} is the same for the same delivery id', () => {
  const delivery = { id: 'd-1', namespace: 'n', webhookId: 'w', receivedAt: Date.UTC(2024, 4, 1, 12, 30, 45, 123), headers: {}, payload: {}, rawBody: Buffer.from('{}'), contentType: 'application/json' };
  assert.equal(objectKey('webhooks', 'webhook_{timestamp}_{uuid}.json', delivery), `webhooks/2024/05/01/12/webhook_2024-05-01T12-30-45.123000_${deliveryUuid('d-1')}.json`);
  assert.equal(deliveryUuid('d-1'), deliveryUuid('d-1'));
  assert.notEqual(deliveryUuid('d-1'), deliveryUuid('d-2'));
  assert.match(deliveryUuid('__proto__'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

test('activemq: CWM config valid; destination_type and reserved prefixes refused', () => {
  assert.equal(judge({ module: 'activemq', connection: 'c', 'module-config': { destination: 'webhook.events', destination_type: 'queue' } }), '');
  assert.match(judge({ module: 'activemq', connection: 'c', 'module-config': { destination: 'x', destination_type: 'exchange' } }), /schema/);
  assert.match(judge({ module: 'activemq', connection: 'c', 'module-config': { destination: 'ActiveMQ.Advisory' } }), /reserved prefix/);
  assert.match(judge({ module: 'activemq', connection: 'c', 'module-config': { destination: 'a..b' } }), /destination/);
});

test('zeromq: CWM config valid without a connection; only tcp:// and ipc:// endpoints; compile binds nothing', () => {
  assert.equal(judge({ module: 'zeromq', 'module-config': { endpoint: 'tcp://localhost:5555', socket_type: 'PUB' } }), '');
  assert.match(judge({ module: 'zeromq', 'module-config': { endpoint: 'inproc://x' } }), /schema/);
  assert.match(judge({ module: 'zeromq', 'module-config': { endpoint: 'tcp://h:1', socket_type: 'ROUTER' } }), /schema/);
});

test('clickhouse: CWM config valid; table must be a plain identifier', () => {
  assert.equal(judge({ module: 'clickhouse', connection: 'c', 'module-config': { table: 'webhook_logs', include_headers: true, include_timestamp: true } }), '');
  assert.equal(judge({ module: 'clickhouse', connection: 'c', 'module-config': { table: 'created_events' } }), '', 'CWM refused this name; cwm does not');
  assert.match(judge({ module: 'clickhouse', connection: 'c', 'module-config': { table: 'x`; DROP TABLE y' } }), /schema/);
});

test('connection configs from CWM docs are valid', () => {
  const ok = (c: Record<string, unknown>): void => assert.deepEqual(validateConfig('connection', structuredClone(c)), [], JSON.stringify(c));
  ok({ type: 's3', aws_access_key_id: 'k', aws_secret_access_key: 's', region: 'us-east-1', endpoint_url: null });
  ok({ type: 's3', aws_access_key_id: 'minioadmin', aws_secret_access_key: 'minioadmin', region: 'us-east-1', endpoint_url: 'http://minio:9000' });
  ok({ type: 'activemq', host: 'localhost', port: 61613, username: 'admin', password: 'admin', use_ssl: false });
  ok({ type: 'activemq', host: 'activemq', port: 61613, user: 'artemis', password: 'artemis' });
  ok({ type: 'clickhouse', host: 'localhost', port: 8123, database: 'webhooks', user: 'default', password: '', secure: false });
  assert.notDeepEqual(validateConfig('connection', { type: 's3', aws_access_key_id: 'only-one' }), [], 'both keys or neither');
});
