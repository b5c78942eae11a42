/** CIDR matching (IPv4, IPv6, mapped addresses) and client address resolution through trusted proxies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { CidrError, compileCidrs, contains } from '../../src/auth/cidr.js';
import { clientIpResolver } from '../../src/auth/client-ip.js';
import { ipWhitelistCheck } from '../../src/auth/ip-whitelist.js';
import { ConfigError } from '../../src/errors.js';
import { compileCheck, statusOf, view } from '../helpers/request-view.js';

test('IPv4 CIDRs, single addresses and prefix boundaries', () => {
  const list = compileCidrs(['10.0.0.0/8', '192.168.1.17', '172.16.0.0/12']);
  assert.ok(contains(list, '10.255.255.255'));
  assert.ok(contains(list, '192.168.1.17'));
  assert.ok(!contains(list, '192.168.1.18'));
  assert.ok(contains(list, '172.31.0.1'));
  assert.ok(!contains(list, '172.32.0.1'));
  assert.ok(!contains(list, '11.0.0.0'));
  assert.ok(contains(list, '::ffff:10.1.2.3'), 'an IPv4 peer seen on a dual-stack socket');
  assert.ok(contains(compileCidrs(['0.0.0.0/0']), '8.8.8.8'));
});

test('IPv6 CIDRs', () => {
  const list = compileCidrs(['2001:db8::/32', '::1']);
  assert.ok(contains(list, '2001:db8:ffff::1'));
  assert.ok(contains(list, '2001:DB8::abcd'));
  assert.ok(!contains(list, '2001:db9::1'));
  assert.ok(contains(list, '::1'));
  assert.ok(!contains(list, '::2'));
  assert.ok(!contains(list, '10.0.0.1'), 'families do not mix');
});

test('garbage never matches and bad entries are refused at compile time', () => {
  const list = compileCidrs(['0.0.0.0/0', '::/0']);
  for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4.5', '10.0.0.1/8', 'unknown', '::ffff:zz']) assert.ok(!contains(list, bad), bad);
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/', 'abc', '10.0.0.0/8/8', '1.2.3.4/0x8']) assert.throws(() => compileCidrs([bad]), CidrError, bad);
  assert.throws(() => compileCheck(ipWhitelistCheck, ['10.0.0.0/40']), ConfigError);
});

function req(peer: string, xff?: string): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } } as unknown as IncomingMessage;
}

test('X-Forwarded-For is ignored unless the peer is a trusted proxy', () => {
  const none = clientIpResolver(null);
  assert.equal(none(req('203.0.113.9', '10.0.0.1')), '203.0.113.9');
  const resolve = clientIpResolver(compileCidrs(['10.0.0.0/8', 'fd00::/8']));
  assert.equal(resolve(req('203.0.113.9', '10.0.0.1')), '203.0.113.9', 'untrusted peer: header ignored');
  assert.equal(resolve(req('::ffff:10.0.0.2', '198.51.100.7')), '198.51.100.7');
  assert.equal(resolve(req('10.0.0.2')), '10.0.0.2', 'trusted peer without header');
});

test('the right-most untrusted hop is the client; spoofed left entries are not believed', () => {
  const resolve = clientIpResolver(compileCidrs(['10.0.0.0/8', 'fd00::/8']));
  assert.equal(resolve(req('10.0.0.2', '1.1.1.1, 198.51.100.7, 10.0.0.5')), '198.51.100.7');
  assert.equal(resolve(req('fd00::1', '2001:db8::7, fd00::2')), '2001:db8::7');
  assert.equal(resolve(req('10.0.0.2', '10.0.0.9, 10.0.0.5')), '10.0.0.9', 'all hops trusted: the left-most');
  assert.equal(resolve(req('10.0.0.2', '1.1.1.1, garbage')), 'garbage', 'garbage becomes the client and matches nothing');
  assert.equal(resolve(req('10.0.0.2', ' , ')), '10.0.0.2', 'empty entries are skipped');
});

test('ip_whitelist answers 403 outside the list and for unparsable client addresses', async () => {
  const c = compileCheck(ipWhitelistCheck, ['192.0.2.0/24', '2001:db8::/32']);
  assert.equal(ipWhitelistCheck.phase, 'headers');
  assert.equal(await statusOf(c, view({ clientIp: '192.0.2.200' })), 0);
  assert.equal(await statusOf(c, view({ clientIp: '2001:db8::1' })), 0);
  assert.equal(await statusOf(c, view({ clientIp: '192.0.3.1' })), 403);
  assert.equal(await statusOf(c, view({ clientIp: 'garbage' })), 403);
  assert.equal(await statusOf(c, view({ clientIp: '' })), 403);
});
