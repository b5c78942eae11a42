/** The etcd provider's pure helpers: backoff with full jitter, key-range math, paginated snapshot reads, client options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noop } from 'cockatiel';
import fc from 'fast-check';
import { Backoff, pause } from '../../src/config/providers/backoff.js';
import { EtcdClientConfigError, etcdClientOptions } from '../../src/connections/etcd-client.js';
import { keyAfter, prefixRangeEnd, readRangeSnapshot, type RangePageRequest } from '../../src/config/providers/etcd-range.js';
import { loadSettings } from '../../src/settings.js';
import { tempDir } from '../helpers/temp-dir.js';

test('backoff ceilings double from the initial delay up to the cap', () => {
  const ceilings: number[] = [];
  const b = new Backoff(50, 500, () => 0.999999);
  for (let i = 0; i < 7; i++) ceilings.push(b.next());
  assert.deepEqual(ceilings, [49, 99, 199, 399, 499, 499, 499]);
  assert.equal(b.attempts, 7);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 49, 'after reset it starts small again');
});

test('backoff uses full jitter: any delay from 0 to the ceiling', () => {
  assert.equal(new Backoff(50, 500, () => 0).next(), 0);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 0, max: 80 }), (initial, max, n) => {
      const b = new Backoff(initial, max);
      for (let i = 0; i < n; i++) b.next();
      const d = b.next();
      return Number.isInteger(d) && d >= 0 && d < Math.min(max, initial * 2 ** Math.min(n, 30));
    }),
  );
});

test('pause resolves after the delay, or at once when aborted', async () => {
  const stop = new AbortController();
  const started = Date.now();
  const waiting = pause(60_000, stop.signal);
  stop.abort();
  await waiting;
  assert.ok(Date.now() - started < 5_000);
  await pause(60_000, stop.signal); // already aborted: resolves at once
  await pause(1, new AbortController().signal);
});

test('prefixRangeEnd is "prefix + 1" on bytes', () => {
  assert.deepEqual(prefixRangeEnd(Buffer.from('/cwm/')), Buffer.from('/cwm0'));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
  assert.deepEqual(prefixRangeEnd(Buffer.alloc(0)), Buffer.from([0]));
  const prefix = Buffer.from('/cwm/');
  prefixRangeEnd(prefix);
  assert.equal(prefix.toString(), '/cwm/', 'input untouched');
});

test('every key with the prefix sorts inside [prefix, prefixRangeEnd); keyAfter is the next key', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 6 }), (p, rest) => {
      const prefix = Buffer.from(p);
      const key = Buffer.concat([prefix, Buffer.from(rest)]);
      const end = prefixRangeEnd(prefix);
      const inside = Buffer.compare(key, prefix) >= 0 && (end.equals(Buffer.from([0])) || Buffer.compare(key, end) < 0);
      const next = keyAfter(key);
      return inside && Buffer.compare(next, key) > 0 && next.subarray(0, key.length).equals(key) && next.length === key.length + 1;
    }),
  );
});

/** An in-memory keyspace with etcd's range semantics (limit, more, revision), to check the pagination arithmetic alone. */
function memoryRange(keys: string[], revision: number) {
  const sorted = keys.map((k) => Buffer.from(k)).sort(Buffer.compare);
  const requests: RangePageRequest[] = [];
  const range = async (req: RangePageRequest) => {
    requests.push(req);
    const inRange = sorted.filter((k) => Buffer.compare(k, req.key) >= 0 && Buffer.compare(k, req.range_end) < 0);
    return { kvs: inRange.slice(0, req.limit).map((key) => ({ key })), more: inRange.length > req.limit, header: { revision: String(revision + requests.length) } };
  };
  return { range, requests };
}

test('readRangeSnapshot reads every key exactly once, in pages, all at the first page\'s revision', async () => {
  for (const [count, pageSize] of [[0, 3], [1, 3], [3, 3], [7, 3], [10, 1], [25, 100]] as const) {
    const keys = Array.from({ length: count }, (_, i) => `/cwm/ns${i}/webhooks/h`);
    const outside = ['/cwl/x', '/cwm0', '/cwn/a'];
    const { range, requests } = memoryRange([...keys, ...outside], 41);
    const prefix = Buffer.from('/cwm/');
    const snap = await readRangeSnapshot(range, prefix, prefixRangeEnd(prefix), pageSize, (kv) => kv.key.toString());
    assert.deepEqual(snap.items.sort(), [...keys].sort(), `${count}/${pageSize}`);
    assert.equal(snap.keys, count);
    assert.equal(snap.revision, 42, 'the first page\'s header revision');
    assert.equal(snap.pages, requests.length);
    assert.equal(snap.pages, Math.max(1, Math.ceil(count / pageSize)));
    assert.equal(requests[0]?.revision, 0, 'first page reads "now"');
    for (const r of requests.slice(1)) assert.equal(r.revision, 42, 'later pages are pinned');
    // Keys the conversion drops are counted in keys and absent from items.
    const odd = await readRangeSnapshot(memoryRange([...keys, ...outside], 41).range, prefix, prefixRangeEnd(prefix), pageSize, (kv) => (kv.key.toString().includes('1') ? undefined : kv.key.toString()));
    assert.deepEqual(odd.items.sort(), keys.filter((k) => !k.includes('1')).sort());
    assert.equal(odd.keys, count);
  }
});

test('client options: limits, keepalive, auth, no built-in retries', () => {
  const settings = loadSettings({ ETCD_ENDPOINTS: '10.0.0.1:2379,https://10.0.0.2:2379', ETCD_USERNAME: 'cwm', ETCD_PASSWORD: 'pw' }).etcd;
  const options = etcdClientOptions(settings);
  assert.deepEqual(options.hosts, ['http://10.0.0.1:2379', 'https://10.0.0.2:2379']);
  assert.deepEqual(options.auth, { username: 'cwm', password: 'pw' });
  assert.ok(Number(options.grpcOptions?.['grpc.max_receive_message_length']) > 4 * 1024 * 1024);
  assert.ok(Number(options.grpcOptions?.['grpc.keepalive_time_ms']) >= 5_000, 'etcd refuses pings more often than every 5 s');
  assert.equal(options.credentials, undefined);
  assert.equal(options.faultHandling?.global, noop, 'no retries inside etcd3: our backoff decides');
  assert.equal(options.faultHandling?.host?.('10.0.0.1:2379'), noop, 'no circuit breaker that would block our reconnects');
  assert.equal(etcdClientOptions(loadSettings({}).etcd).auth, undefined);
});

test('client options: TLS files are read; a missing file or a lone cert is a clear error', () => {
  const dir = tempDir('cwm-tls-');
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----${f}-----`);
  const tls = etcdClientOptions(loadSettings({ ETCD_CA_FILE: join(dir, 'ca.pem'), ETCD_CERT_FILE: join(dir, 'cert.pem'), ETCD_KEY_FILE: join(dir, 'key.pem') }).etcd);
  assert.equal(tls.credentials?.rootCertificate.toString(), '-----ca.pem-----');
  assert.equal(tls.credentials?.certChain?.toString(), '-----cert.pem-----');
  assert.equal(tls.credentials?.privateKey?.toString(), '-----key.pem-----');
  const caOnly = etcdClientOptions(loadSettings({ ETCD_CA_FILE: join(dir, 'ca.pem') }).etcd);
  assert.equal(caOnly.credentials?.certChain, undefined);
  assert.throws(() => etcdClientOptions(loadSettings({ ETCD_CA_FILE: join(dir, 'nope.pem') }).etcd), (err: Error) => err instanceof EtcdClientConfigError && /ETCD_CA_FILE=.*nope\.pem: cannot read/.test(err.message));
  assert.throws(() => etcdClientOptions(loadSettings({ ETCD_CERT_FILE: join(dir, 'cert.pem') }).etcd), /ETCD_CERT_FILE and ETCD_KEY_FILE must be set together/);
});
