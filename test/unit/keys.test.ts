import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryId, formatKey, parseKey } from '../../src/config/keys.js';

const P = '/cwm/';

test('parses webhook and connection keys', () => {
  assert.deepEqual(parseKey(P, '/cwm/team-a/webhooks/orders'), { kind: 'webhook', namespace: 'team-a', id: 'orders' });
  assert.deepEqual(parseKey(P, '/cwm/global/connections/kafka_main'), { kind: 'connection', name: 'kafka_main' });
});

test('hostile but valid names are ordinary names', () => {
  for (const name of ['__proto__', 'constructor', 'toString']) {
    assert.deepEqual(parseKey(P, `/cwm/${name}/webhooks/${name}`), { kind: 'webhook', namespace: name, id: name });
  }
});

test('ignores keys outside the layout or with bad names', () => {
  for (const key of ['/other/a/webhooks/b', '/cwm/a/webhooks', '/cwm/a/webhooks/b/c', '/cwm/a/hooks/b', '/cwm/a b/webhooks/c', '/cwm/../webhooks/x', '/cwm/a/webhooks/' + 'x'.repeat(65), '/cwm/team/connections/x', '/cwm/a/webhooks/ü']) {
    assert.equal(parseKey(P, key), null, key);
  }
});

test('formatKey inverts parseKey and entryId separates kinds', () => {
  const w = { kind: 'webhook', namespace: 'ns', id: 'a' } as const;
  const c = { kind: 'connection', name: 'a' } as const;
  assert.deepEqual(parseKey(P, formatKey(P, w)), w);
  assert.deepEqual(parseKey(P, formatKey(P, c)), c);
  assert.notEqual(entryId(w), entryId(c));
});
