/** deliver(): every output must acknowledge; a failure or the shared-window timeout rejects with DeliveryError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, DeliveryError, SEQUENTIAL, type Execution, type NamedOutput } from '../../src/delivery/deliver.js';

const PARALLEL: Execution = { mode: 'parallel', continueOnError: false };
import { DeliveryTimeouts } from '../../src/delivery/timeouts.js';
import type { Delivery } from '../../src/delivery/types.js';

const delivery: Delivery = { id: 'd1', namespace: 'ns', webhookId: 'id', receivedAt: 0, headers: {}, payload: {}, rawBody: Buffer.alloc(0), contentType: 'application/json' };

function output(module: string, send: (signal: AbortSignal) => Promise<void>): NamedOutput {
  return { module, output: { send: (_d, signal) => send(signal), close: async () => undefined } };
}

const ok = (module: string, sent: string[]): NamedOutput => output(module, async () => void sent.push(module));
const hang = (seen: AbortSignal[]): NamedOutput => output('hang', (signal) => new Promise(() => void seen.push(signal)));

test('resolves when every output acknowledged, in order when sequential', async () => {
  const sent: string[] = [];
  await deliver([ok('a', sent), ok('b', sent)], SEQUENTIAL, delivery, new DeliveryTimeouts(1000));
  await deliver([ok('c', sent), ok('d', sent)], PARALLEL, delivery, new DeliveryTimeouts(1000));
  assert.deepEqual(sent, ['a', 'b', 'c', 'd']);
});

test('a failing output rejects with reason failed and the cause', async () => {
  const boom = new Error('broker down');
  await assert.rejects(deliver([output('redis_queue', async () => Promise.reject(boom))], SEQUENTIAL, delivery, new DeliveryTimeouts(1000)), (err: unknown) => {
    assert.ok(err instanceof DeliveryError);
    assert.equal(err.module, 'redis_queue');
    assert.equal(err.reason, 'failed');
    assert.equal(err.cause, boom);
    return true;
  });
});

test('a hanging output times out no earlier than the timeout, with its signal aborted', async () => {
  const timeouts = new DeliveryTimeouts(100);
  const seen: AbortSignal[] = [];
  const started = performance.now();
  await assert.rejects(deliver([ok('log', []), hang(seen)], PARALLEL, delivery, timeouts), (err: unknown) => {
    assert.ok(err instanceof DeliveryError);
    assert.equal(err.reason, 'timeout');
    assert.equal(err.module, 'log+hang');
    return true;
  });
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 100, `timed out after ${elapsed} ms`);
  // Loose upper bound: it must not hang, but a loaded 2-core machine may be late by far more than one window.
  assert.ok(elapsed < 100 + timeouts.windowMs + 3000, `timed out after ${elapsed} ms`);
  assert.equal(seen[0]?.aborted, true);
});

test('deliveries sharing a window: the finished one is not reported, the hanging one is', async () => {
  const timeouts = new DeliveryTimeouts(50);
  const seen: AbortSignal[] = [];
  const fast = deliver([ok('log', [])], SEQUENTIAL, delivery, timeouts);
  const slow = deliver([hang(seen)], SEQUENTIAL, delivery, timeouts);
  await fast;
  await assert.rejects(slow, (err: unknown) => err instanceof DeliveryError && err.reason === 'timeout');
  // A later delivery starts in a fresh window with a signal that is not aborted.
  const later: AbortSignal[] = [];
  await deliver([output('log', async (signal) => void later.push(signal))], SEQUENTIAL, delivery, timeouts);
  assert.equal(later[0]?.aborted, false);
});

test('sequential: a chain step after the deadline never starts', async () => {
  const sent: string[] = [];
  // The first step acknowledges only after the deadline passed (50 ms window + timeout).
  const slow = output('slow', (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })));
  await assert.rejects(deliver([slow, ok('after', sent)], SEQUENTIAL, delivery, new DeliveryTimeouts(20)), DeliveryError);
  // Let the slow step's abort listener resolve and the loop reach the next step.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(sent, [], 'the step after the deadline did not run');
});
