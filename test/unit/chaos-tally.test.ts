/** The chaos runs' bookkeeping: what counts as lost, as an allowed duplicate, as given up; and the runner's options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, UsageError } from '../../scripts/chaos/options.js';
import { roundRobin, type Attempt, type DeliveryRecord } from '../../scripts/chaos/sender.js';
import { countIds, passed, tally } from '../../scripts/chaos/tally.js';
import { scenarioPassed } from '../../scripts/chaos/table.js';

const attempt = (status: number, instance = 'a'): Attempt => ({ instance, status, ms: 1, at: 0 });
const record = (id: string, ...statuses: number[]): DeliveryRecord => ({ id, path: '/webhook/x', attempts: statuses.map((s) => attempt(s)) });

test('tally: a 2xx delivery missing at the destination is lost; the run fails', () => {
  const t = tally('dest', [record('a', 200), record('b', 200)], countIds(['a']));
  assert.equal(t.acked, 2);
  assert.equal(t.lost, 1);
  assert.deepEqual(t.lostSample, ['b']);
  assert.equal(passed(t), false);
});

test('tally: a duplicate is allowed only for a delivery the sender retried', () => {
  const retried = tally('dest', [record('a', 503, 200)], countIds(['a', 'a']));
  assert.deepEqual([retried.duplicates, retried.duplicatesWithoutRetry, retried.retried, passed(retried)], [1, 0, 1, true]);
  const once = tally('dest', [record('a', 200)], countIds(['a', 'a', 'a']));
  assert.deepEqual([once.duplicates, once.duplicatesWithoutRetry, passed(once)], [2, 2, false]);
});

test('an at-least-once run (the spool) counts copies of ids sent once but fails only on lost', () => {
  const once = tally('dest', [record('a', 202), record('b', 202)], countIds(['a', 'a', 'b']));
  assert.equal(once.duplicatesWithoutRetry, 1);
  assert.equal(passed(once, true), true);
  const base = { name: 'spool-kill', title: 't', seconds: 1, notes: [] };
  assert.equal(scenarioPassed({ ...base, tallies: [once], atLeastOnce: true }), true);
  assert.equal(scenarioPassed({ ...base, tallies: [once] }), false);
  const lost = tally('dest', [record('a', 202)], countIds([]));
  assert.equal(scenarioPassed({ ...base, tallies: [lost], atLeastOnce: true }), false);
});

test('tally: never acknowledged is not lost (gave up); found without a 2xx is counted apart', () => {
  const t = tally('dest', [record('a', 503, 0, 503), record('b', 0, 503), record('c', 404)], countIds(['b']));
  assert.deepEqual([t.acked, t.lost, t.gaveUp, t.foundUnacked, t.answered503, t.connErrors, t.otherStatus, t.attempts], [0, 0, 2, 1, 3, 2, 1, 6]);
  assert.equal(passed(t), true);
});

test('roundRobin: alternates, and a retry never goes back to the instance that just failed', () => {
  const pick = roundRobin([{ instance: 'a', port: 1 }, { instance: 'b', port: 2 }]);
  assert.deepEqual([pick(undefined).instance, pick(undefined).instance], ['a', 'b']);
  assert.equal(pick('a').instance, 'b');
  assert.equal(pick('b').instance, 'a');
});

test('chaos options: --only takes names (repeated or comma list), --short; bad input is a UsageError', () => {
  const o = parseOptions(['--short', '--only', 'sigterm,redis-kill', '--only=etcd-outage']);
  assert.equal(o.short, true);
  assert.deepEqual(o.scenarios.map((s) => s.name), ['etcd-outage', 'redis-kill', 'sigterm']);
  assert.equal(parseOptions([]).scenarios.length, 9);
  for (const argv of [['--only'], ['--only', 'nope'], ['--only='], ['--fast'], ['--only', '__proto__']]) assert.throws(() => parseOptions(argv), UsageError, argv.join(' '));
});

test('scenarioPassed: a run that could not finish, or counted nothing, fails', () => {
  const ok = tally('dest', [record('a', 200)], countIds(['a']));
  const base = { name: 'x', title: 'x', seconds: 1, notes: [] };
  assert.equal(scenarioPassed({ ...base, tallies: [ok] }), true);
  assert.equal(scenarioPassed({ ...base, tallies: [ok], error: 'redis did not come back' }), false);
  assert.equal(scenarioPassed({ ...base, tallies: [] }), false);
  assert.equal(scenarioPassed({ ...base, tallies: [ok, tally('dest', [record('b', 200)], new Map())] }), false);
});
