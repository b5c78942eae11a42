/**
 * BatchedDestination: one write(2) per event-loop turn, `written()` settles
 * only once the bytes are in the kernel, a full stdout (EAGAIN) delays
 * without losing or reordering, a broken one fails the waiting deliveries.
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
  const dest = new BatchedDestination(1, fd.write);
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
  const dest = new BatchedDestination(1, fakeFd().write);
  assert.equal(await state(dest.written()), 'resolved');
});

test('a full stdout (EAGAIN, short writes) delays the answer but loses and reorders nothing', async () => {
  // Calls 0 and 2: full. Call 1: only 3 bytes taken. Then everything.
  const fd = fakeFd((call, bytes) => (call === 0 || call === 2 ? errno('EAGAIN') : call === 1 ? Math.min(3, bytes.length) : bytes.length));
  const dest = new BatchedDestination(1, fd.write);
  dest.write('first line\n');
  const first = dest.written();
  await nextTurn();
  assert.equal(await state(first), 'pending', 'still waiting for the reader');
  dest.write('second line\n');
  const second = dest.written();
  await first;
  await second;
  assert.equal(fd.text(), 'first line\nsecond line\n');
});

test('a write error fails the waiting lines; later lines are written again', async () => {
  let broken = true;
  const fd = fakeFd((_c, bytes) => (broken ? errno('EPIPE') : bytes.length));
  const dest = new BatchedDestination(1, fd.write);
  dest.write('lost\n');
  await assert.rejects(dest.written(), /EPIPE/);
  broken = false;
  dest.write('kept\n');
  await dest.written();
  assert.equal(fd.text(), 'kept\n');
});

test('flush() writes everything now, waiting out a full stdout, then calls back', () => {
  const fd = fakeFd((call, bytes) => (call < 2 ? errno('EAGAIN') : bytes.length));
  const dest = new BatchedDestination(1, fd.write);
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

test('whenWritten follows a pino logger and its children to their BatchedDestination', async () => {
  const fd = fakeFd();
  const logger = pino({ base: null }, new BatchedDestination(1, fd.write)).child({ component: 'x' });
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
