/** WebhookSlots: the per-webhook cap, the hand-over to a waiter of the same webhook, the timed-out wait. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferDelayMs, FAIR_DEFER_MS, FAIR_FAST_ATTEMPT_MS, WebhookSlots } from '../../src/delivery/spool-fairness.js';

test('a webhook gets its cap at once; others are not affected', async () => {
  const slots = new WebhookSlots(2);
  const a1 = await slots.acquire('ns/a', 0);
  const a2 = await slots.acquire('ns/a', 0);
  assert.ok(a1 && a2);
  assert.equal(await slots.acquire('ns/a', 5), undefined, 'over the cap after the wait');
  assert.ok(await slots.acquire('ns/b', 0), 'another webhook has its own slots');
  assert.ok(await slots.acquire('__proto__', 0), '__proto__ is an ordinary webhook key');
  assert.equal(slots.inUse('ns/a'), 2);
});

test('a released slot passes to a waiter of the same webhook; releasing twice frees it once', async () => {
  const slots = new WebhookSlots(1);
  const first = await slots.acquire('ns/a', 0);
  assert.ok(first);
  const waiting = slots.acquire('ns/a', 10_000);
  first();
  first();
  const second = await waiting;
  assert.ok(second, 'the waiter got the slot');
  assert.equal(slots.inUse('ns/a'), 1);
  second();
  assert.equal(slots.inUse('ns/a'), 0);
});

test('a waiter that timed out does not take a slot freed later', async () => {
  const slots = new WebhookSlots(1);
  const first = await slots.acquire('ns/a', 0);
  assert.ok(first);
  assert.equal(await slots.acquire('ns/a', 1), undefined);
  first();
  assert.equal(slots.inUse('ns/a'), 0);
});

test('defer delay is FAIR_DEFER_MS to twice that; a cap below 1 is refused', () => {
  assert.equal(deferDelayMs(() => 0), FAIR_DEFER_MS);
  assert.equal(deferDelayMs(() => 1), 2 * FAIR_DEFER_MS);
  assert.throws(() => new WebhookSlots(0), /cap/);
});

test('a webhook whose last attempt was fast goes past its cap until one of its attempts runs long', async () => {
  let now = 0;
  const slots = new WebhookSlots(1, () => now);
  const first = await slots.acquire('ns/a', 0);
  assert.ok(first);
  assert.equal(await slots.acquire('ns/a', 0), undefined, 'never attempted: slow, held to the cap');
  now += 5;
  first();
  const [x, y, z] = await Promise.all([slots.acquire('ns/a', 0), slots.acquire('ns/a', 0), slots.acquire('ns/a', 0)]);
  assert.ok(x && y && z, 'last attempt took 5 ms: past the cap');
  now += FAIR_FAST_ATTEMPT_MS;
  assert.equal(await slots.acquire('ns/a', 0), undefined, 'a running attempt is now old: the cap binds');
  x();
  y();
  z();
  assert.equal(slots.inUse('ns/a'), 0);
  assert.ok(await slots.acquire('ns/a', 0), 'under the cap again');
  assert.equal(await slots.acquire('ns/a', 0), undefined, 'last attempt slow: held to the cap');
});
