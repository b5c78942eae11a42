/**
 * The outbound guard's address classes, its config-time host check, and its
 * resolve-then-connect lookup: a name that answers a public address first and
 * 127.0.0.1 next (DNS rebinding) is judged on the answer net connects to.
 * Plus the save_to_disk and outbound settings reaching bind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { connect } from 'node:net';
import { pino } from 'pino';
import { checkTargetHost, classifyAddress, guardedLookup, OutboundRefusedError, type Resolve } from '../../src/connections/outbound-guard.js';
import { LiveConnections } from '../../src/connections/live.js';
import { ConfigError } from '../../src/errors.js';
import { STRICT_OUTPUT_SETTINGS } from '../../src/outputs/types.js';
import { compileValid } from '../helpers/compile.js';

const strict = { allowLocalhost: false, allowPrivate: false };

test('address classes, IPv4-mapped IPv6 judged as IPv4', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'], ['127.9.9.9', 'loopback'], ['0.0.0.0', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::127.0.0.1', 'reserved'],
    ['10.0.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['fd12::1', 'private'],
    ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'], ['169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'], ['100.100.100.200', 'metadata'],
    ['224.0.0.1', 'multicast'], ['240.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'],
    ['8.8.8.8', 'public'], ['172.32.0.1', 'public'], ['2606:4700::1111', 'public'], ['::ffff:8.8.8.8', 'public'],
  ];
  for (const [ip, kind] of cases) assert.equal(classifyAddress(ip), kind, ip);
});

test('config-time check: literal IPs by policy, names pass to connect time, allowed_hosts restricts but never exempts', () => {
  assert.throws(() => checkTargetHost('127.0.0.1', strict, undefined, '/module-config/url'), (e: unknown) => e instanceof ConfigError && e.pointer === '/module-config/url');
  assert.doesNotThrow(() => checkTargetHost('127.0.0.1', { allowLocalhost: true, allowPrivate: false }, undefined, '/u'));
  assert.throws(() => checkTargetHost('10.0.0.1', { allowLocalhost: true, allowPrivate: false }, undefined, '/u'), /private/);
  assert.doesNotThrow(() => checkTargetHost('10.0.0.1', { allowLocalhost: false, allowPrivate: true }, undefined, '/u'));
  assert.throws(() => checkTargetHost('169.254.169.254', { allowLocalhost: true, allowPrivate: true }, undefined, '/u'), /metadata/);
  assert.doesNotThrow(() => checkTargetHost('api.example.com', strict, undefined, '/u'));
  assert.throws(() => checkTargetHost('other.example.com', strict, ['api.example.com'], '/u'), /allowed_hosts/);
  assert.throws(() => checkTargetHost('127.0.0.1', strict, ['127.0.0.1'], '/u'), /loopback/, 'listing a host does not exempt it');
  assert.doesNotThrow(() => checkTargetHost('api.example.com', strict, [], '/u'), 'an empty list restricts nothing (as in CWM)');
});

test('resolve-then-connect: a rebinding name is judged on the answer the socket connects to', async () => {
  const server = createServer((s) => s.end('hi'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  // Answers a public address to the first question, then 127.0.0.1 — what a rebinding name does.
  let asked = 0;
  const rebinding: Resolve = (_host, _family, cb) => cb(null, [asked++ === 0 ? { address: '93.184.216.34', family: 4 } : { address: '127.0.0.1', family: 4 }]);
  const lookup = guardedLookup(strict, rebinding);
  const first = await new Promise<string | LookupAddress[]>((resolve, reject) => lookup('rebind.test', {}, (err, address) => (err ? reject(err) : resolve(address))));
  assert.equal(first, '93.184.216.34');
  const err = await new Promise<Error>((resolve) => {
    const sock = connect({ host: 'rebind.test', port, lookup });
    sock.on('error', resolve);
    sock.on('connect', () => resolve(new Error('connected')));
  });
  assert.ok(err instanceof OutboundRefusedError, `refused, not connected: ${err.message}`);
  // A name with one refused answer among several is refused.
  const mixed: Resolve = (_h, _f, cb) => cb(null, [{ address: '8.8.8.8', family: 4 }, { address: '10.0.0.1', family: 4 }]);
  await assert.rejects(new Promise((resolve, reject) => guardedLookup(strict, mixed)('mixed.test', { all: true }, (e, a) => (e ? reject(e) : resolve(a)))), OutboundRefusedError);
  // The real resolver: `localhost` is loopback.
  await assert.rejects(new Promise((resolve, reject) => guardedLookup(strict)('localhost', {}, (e, a) => (e ? reject(e) : resolve(a)))), OutboundRefusedError);
  server.close();
});

test('save_to_disk is refused unless the operator set SAVE_TO_DISK_BASE_DIR; outputs see the settings handed to compile', () => {
  const logger = pino({ level: 'silent' });
  const connections = new LiveConnections(logger);
  assert.throws(() => compileValid('ns', 'w', { module: 'save_to_disk' }, { logger, connections, maxBodyBytes: 1024 }), (e: unknown) => e instanceof ConfigError && /SAVE_TO_DISK_BASE_DIR/.test(e.message));
  const settings = { ...STRICT_OUTPUT_SETTINGS, saveToDiskBaseDir: '/srv/cwm' };
  const hook = compileValid('ns', 'w', { module: 'save_to_disk', 'module-config': { path: 'x' } }, { logger, connections, maxBodyBytes: 1024, settings });
  void hook.close();
  assert.throws(() => compileValid('ns', 'w', { module: 'save_to_disk', 'module-config': { base_dir: '/a/../b' } }, { logger, connections, maxBodyBytes: 1024, settings }), (e: unknown) => e instanceof ConfigError && e.pointer === '/module-config/base_dir');
  assert.throws(() => compileValid('ns', 'w', { module: 'http_webhook', 'module-config': { url: 'http://127.0.0.1/' } }, { logger, connections, maxBodyBytes: 1024 }), /loopback/);
  const allowed = compileValid('ns', 'w', { module: 'http_webhook', 'module-config': { url: 'http://127.0.0.1/' } }, { logger, connections, maxBodyBytes: 1024, settings: { ...STRICT_OUTPUT_SETTINGS, allowLocalhostForTests: true } });
  void allowed.close();
  assert.throws(() => compileValid('ns', 'w', { module: 'http_webhook', 'module-config': { url: 'ftp://example.com/' } }, { logger, connections, maxBodyBytes: 1024 }), /http:\/\/ or https:\/\//);
  assert.throws(() => compileValid('ns', 'w', { module: 'websocket', 'module-config': { url: 'ws://user:pw@example.com/' } }, { logger, connections, maxBodyBytes: 1024 }), /credentials/);
});
