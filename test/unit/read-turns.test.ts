/**
 * Read turns: past its share in one turn of the loop a socket stops reading and its further
 * requests wait, in order, for later turns; waiting sockets get their turn back a few per turn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ReadTurns, type HttpSocket, type ReadHolds } from '../../src/http/read-turns.js';

/** The socket surface read-turns uses (pause/resume, node's _paused and parser), recording what happened. */
function fakeSocket(name: string, log: string[]): { socket: HttpSocket; holds: ReadHolds } {
  const emitter = new EventEmitter();
  const socket = Object.assign(emitter, {
    _paused: false,
    destroyed: false,
    writableNeedDrain: false,
    parser: { pause: () => log.push(`${name}:parser-pause`), resume: () => log.push(`${name}:parser-resume`) },
    pause() {
      log.push(`${name}:pause`);
      return socket;
    },
    resume() {
      log.push(`${name}:resume`);
      return socket;
    },
  }) as unknown as HttpSocket;
  return { socket, holds: { pipelined: false, throttled: false, turnRequests: 0, deferred: undefined } };
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('past perTurn requests in one turn: reading stops, the rest are handled in order in later turns, then reading resumes', async () => {
  const log: string[] = [];
  const handled: number[] = [];
  const turns = new ReadTurns(3, 1);
  const a = fakeSocket('a', log);
  const now = Array.from({ length: 7 }, (_, i) => turns.admit(a.socket, a.holds, (n: number) => handled.push(n), i));
  assert.deepEqual(now, [true, true, true, false, false, false, false]);
  assert.deepEqual(handled, [0, 1, 2]);
  assert.equal(a.socket._paused, true);
  assert.deepEqual(log, ['a:pause']);
  await nextTurn();
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 5], 'perTurn × resumePerTurn of the waiting ones, in order');
  assert.equal(a.socket._paused, true, 'still reading nothing while requests wait');
  await nextTurn();
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(a.holds.throttled, false);
  assert.equal(a.socket._paused, false);
  assert.deepEqual(log, ['a:pause', 'a:parser-resume', 'a:resume']);
  assert.equal(turns.admit(a.socket, a.holds, (n: number) => handled.push(n), 7), true, 'a new turn, a new share');
});

test('light sockets are never held; waiting sockets come back resumePerTurn at a time, oldest first', async () => {
  const log: string[] = [];
  const turns = new ReadTurns(1, 1);
  const [a, b, light] = [fakeSocket('a', log), fakeSocket('b', log), fakeSocket('light', log)];
  let ran = 0;
  for (let i = 0; i < 2; i++) turns.admit(a.socket, a.holds, () => ran++, undefined);
  for (let i = 0; i < 2; i++) turns.admit(b.socket, b.holds, () => ran++, undefined);
  assert.equal(turns.admit(light.socket, light.holds, () => ran++, undefined), true);
  assert.equal(ran, 3);
  await nextTurn();
  assert.equal(ran, 4, "a's waiting request ran (budget 1)");
  await nextTurn();
  await nextTurn();
  await nextTurn();
  assert.equal(ran, 5);
  assert.deepEqual([a.holds.throttled, b.holds.throttled], [false, false]);
  assert.ok(!log.some((l) => l.startsWith('light:')), 'the light socket was never paused');
});

test('a socket held for another reason (too many answers outstanding) is not resumed by its turn; a closed one drops what waited', async () => {
  const log: string[] = [];
  const turns = new ReadTurns(1, 4);
  const a = fakeSocket('a', log);
  turns.admit(a.socket, a.holds, () => {}, undefined);
  turns.admit(a.socket, a.holds, () => {}, undefined);
  a.holds.pipelined = true;
  await nextTurn();
  await nextTurn();
  assert.equal(a.holds.throttled, false, 'its turn came');
  assert.equal(a.socket._paused, true, 'but it stays stopped while the pipelining hold lasts');
  assert.ok(!log.includes('a:resume'));
  const b = fakeSocket('b', log);
  let ran = 0;
  for (let i = 0; i < 3; i++) turns.admit(b.socket, b.holds, () => ran++, undefined);
  turns.forget(b.socket, b.holds);
  await nextTurn();
  assert.equal(ran, 1, 'requests of a closed socket are not handled');
});
