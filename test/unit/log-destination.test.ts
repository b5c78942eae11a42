/**
 * BatchedDestination: one write(2) per event-loop turn, `written()` settles
 * only once the bytes are in the kernel, a full stdout (EAGAIN) delays
 * without losing or reordering (and without growing past its cap), a broken
 * one fails the waiting deliveries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino } from 'pino';
import { BatchedDestination, whenWritten, type WriteFn } from '../../src/observability/log-destination.js';

/** A fake write(2): records what reached "the kernel"; `script` says what each call does. */
function fakeFd(script: (call: number, bytes: Buffer) => number | NodeJS.ErrnoException = (_c, b) => b.length): { write: WriteFn; calls: number; text(): string } {
  const out: Buffer[] = [];
  const fd = {
    calls: 0,
    write: ((_fd: number, buffer: Buffer, offset: number): number => {
      const result = script(fd.calls++, buffer.subarray(offset));
      if (typeof result !== 'number') throw result;
      out.push(Buffer.from(buffer.subarray(offset, offset + result)));
      return result;
    }) as WriteFn,
    text: () => Buffer.concat(out).toString(),
  };
  return fd;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: fake`), { code });
}

/** Settled state of a promise after a few microtask ticks (no timers or immediates run meanwhile). */
async function state(p: Promise<void>): Promise<string> {
  let settled = 'pending';
  p.then(() => (settled = 'resolved'), () => (settled = 'rejected'));
  for (let i = 0; i < 5; i++) await null;
  return settled;
}

test('lines of one turn go out in one write, in order, and written() settles only after it', async () => {
  const fd = fakeFd();
  const dest = new BatchedDestination(1, { write: fd.write, onError: () => {} });
  dest.write('a\n');
  dest.write('b\n');
  const done = dest.written();
  dest.write('c\n');
  assert.equal(fd.calls, 0, 'nothing written before the turn ends');
  assert.equal(await state(done), 'pending');
  await done;
  assert.equal(fd.calls, 1);
  assert.equal(fd.text(), 'a\nb\nc\n');
  dest.write('d\n');
  await dest.written();
  assert.equal(fd.calls, 2);
  assert.equal(fd.text(), 'a\nb\nc\nd\n');
});

test('nothing to write: written() is already settled', async () => {
  const dest = new BatchedDestination(1, { write: fakeFd().write });
  assert.equal(await state(dest.written()), 'resolved');
});

test('a full stdout (EAGAIN, short writes) delays the answer but loses and reorders nothing', async () => {
  // Calls 0 and 2: full. Call 1: only 3 bytes taken. Call 3: the rest of the first batch. Call 4 (second batch): full. Then everything.
  const fd = fakeFd((call, bytes) => ([0, 2, 4].includes(call) ? errno('EAGAIN') : call === 1 ? Math.min(3, bytes.length) : bytes.length));
  const dest = new BatchedDestination(1, { write: fd.write });
  dest.write('first line\n');
  const first = dest.written();
  await nextTurn();
  assert.equal(await state(first), 'pending', 'still waiting for the reader');
  dest.write('second line\n');
  const second = dest.written();
  assert.notEqual(second, first, 'a line logged while an earlier batch waits gets its own batch');
  await first;
  assert.equal(fd.text(), 'first line\n');
  assert.equal(await state(second), 'pending', 'the second batch met a full stdout of its own');
  await second;
  assert.equal(fd.text(), 'first line\nsecond line\n');
});

test('while stdout stays full, lines beyond the cap are dropped and their callers told; the rest is written later', async () => {
  let full = true;
  const fd = fakeFd((_c, bytes) => (full ? errno('EAGAIN') : bytes.length));
  const dest = new BatchedDestination(1, { write: fd.write, maxQueuedChars: 20 });
  dest.write('stuck 1\n');
  const stuck = dest.written();
  await nextTurn(); // the first batch meets the full stdout
  dest.write('queued 2\n');
  const queued = dest.written();
  dest.write('dropped 3 is too long\n');
  await assert.rejects(dest.written(), /log destination full/);
  dest.write('fits 4\n');
  const fits = dest.written();
  assert.equal(await state(fits), 'pending', 'a line that fits is queued again');
  full = false;
  await Promise.all([stuck, queued, fits]);
  assert.equal(fd.text(), 'stuck 1\nqueued 2\nfits 4\n');
});

test('a write error fails the waiting lines, is reported once, and later lines are written again on a line of their own', async () => {
  let broken = true;
  const errors: Error[] = [];
  // A short write of 4 bytes, then the error: half a line reached the file.
  const fd = fakeFd((call, bytes) => (broken ? (call === 0 ? 4 : errno('EPIPE')) : bytes.length));
  const dest = new BatchedDestination(1, { write: fd.write, onError: (e) => errors.push(e) });
  dest.write('lost line\n');
  await assert.rejects(dest.written(), /EPIPE/);
  dest.write('lost too\n');
  await assert.rejects(dest.written(), /EPIPE/);
  assert.equal(errors.length, 1, 'one report per failure, not per batch');
  broken = false;
  dest.write('kept\n');
  await dest.written();
  assert.equal(fd.text(), 'lost\nkept\n', 'the broken line is ended before the next one');
});

test('flush() writes everything now, waiting out a full stdout, then calls back', () => {
  const fd = fakeFd((call, bytes) => (call < 2 ? errno('EAGAIN') : bytes.length));
  const dest = new BatchedDestination(1, { write: fd.write, onError: () => {} });
  dest.write('x\n');
  dest.write('y\n');
  let called = false;
  dest.flush((err) => {
    assert.equal(err, undefined);
    called = true;
  });
  assert.ok(called);
  assert.equal(fd.text(), 'x\ny\n');
});

test('flush() gives up on a stdout that stays full past its limit, failing the waiting lines', async () => {
  const fd = fakeFd(() => errno('EAGAIN'));
  const dest = new BatchedDestination(1, { write: fd.write, flushLimitMs: 30 });
  dest.write('never\n');
  const waiting = dest.written();
  let failure: Error | undefined;
  dest.flush((err) => (failure = err));
  assert.match(String(failure), /still full after 30 ms/);
  await assert.rejects(waiting, /still full/);
  assert.equal(fd.text(), '');
});

test('whenWritten follows a pino logger and its children to their BatchedDestination', async () => {
  const fd = fakeFd();
  const logger = pino({ base: null }, new BatchedDestination(1, { write: fd.write, onError: () => {} })).child({ component: 'x' });
  const written = whenWritten(logger);
  logger.info({ n: 1 }, 'hello');
  assert.equal(fd.text(), '');
  await written();
  assert.match(fd.text(), /"component":"x","n":1,"msg":"hello"/);

  const lines: string[] = [];
  const other = pino({ base: null }, { write: (s: string) => void lines.push(s) });
  other.info('handed over');
  assert.equal(await state(whenWritten(other)()), 'resolved', 'another stream counts a line as written once handed over');
  assert.equal(lines.length, 1);
});
