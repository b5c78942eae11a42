/** The spool's retry delays (CWM's formula plus equal jitter), job ids and the CLI's durations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/cli/deliveries.js';
import { retryDelayMs, retryPolicy } from '../../src/delivery/retry-policy.js';
import { spoolJobId } from '../../src/delivery/spool.js';

test('retry delays grow by the multiplier up to max_delay, with jitter between half and all of it', () => {
  const policy = retryPolicy({ max_attempts: 5, initial_delay: 1, max_delay: 5, backoff_multiplier: 2 });
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, () => 1)), [1000, 2000, 4000, 5000, 5000]);
  assert.deepEqual([1, 2, 3].map((n) => retryDelayMs(policy, n, () => 0)), [500, 1000, 2000]);
});

test('max_delay below initial_delay is raised to it, as CWM does', () => {
  const policy = retryPolicy({ max_attempts: 3, initial_delay: 4, max_delay: 1, backoff_multiplier: 3 });
  assert.equal(policy.maxDelayMs, 4000);
  assert.equal(retryDelayMs(policy, 3, () => 1), 4000);
});

test('spool job ids: per webhook, stable, and safe for BullMQ (no ":")', () => {
  assert.equal(spoolJobId('ns', 'a', 'x1'), 'ns/a/x1');
  assert.notEqual(spoolJobId('ns', 'a', 'x1'), spoolJobId('ns', 'b', 'x1'));
  const encoded = spoolJobId('ns', 'a', 'urn:evt:1');
  assert.ok(!encoded.includes(':'));
  assert.equal(encoded, spoolJobId('ns', 'a', 'urn:evt:1'));
});

test('--older-than durations', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.throws(() => parseDuration('7 days'));
  assert.throws(() => parseDuration('-1h'));
});
