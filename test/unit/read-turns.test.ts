/** Read turns: a socket past its share in one turn of the loop stops reading; waiting sockets get their turn back a few per turn, oldest first. */
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
  return { socket, holds: { pipelined: false, throttled: false, turnRequests: 0 } };
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a socket past perTurn requests in one turn stops reading and reads again in a later turn', async () => {
  const log: string[] = [];
  const turns = new ReadTurns(3, 4);
  const a = fakeSocket('a', log);
  const results = Array.from({ length: 5 }, () => turns.count(a.socket, a.holds));
  assert.deepEqual(results, [false, false, false, true, false], 'throttled once, at the 4th request');
  assert.equal(a.holds.throttled, true);
  assert.equal(a.socket._paused, true);
  assert.deepEqual(log, ['a:pause']);
  await nextTurn();
  assert.equal(a.holds.throttled, false);
  assert.equal(a.socket._paused, false);
  assert.equal(a.holds.turnRequests, 0, 'the count starts again each turn');
  assert.deepEqual(log, ['a:pause', 'a:parser-resume', 'a:resume']);
});

test('light sockets are never held; waiting sockets come back resumePerTurn at a time, oldest first', async () => {
  const log: string[] = [];
  const turns = new ReadTurns(1, 1);
  const [a, b, light] = [fakeSocket('a', log), fakeSocket('b', log), fakeSocket('light', log)];
  for (let i = 0; i < 3; i++) turns.count(a.socket, a.holds);
  for (let i = 0; i < 3; i++) turns.count(b.socket, b.holds);
  assert.equal(turns.count(light.socket, light.holds), false);
  assert.equal(light.holds.throttled, false);
  await nextTurn();
  assert.deepEqual([a.holds.throttled, b.holds.throttled], [false, true], 'a (first to wait) is back, b still waits');
  await nextTurn();
  assert.equal(b.holds.throttled, false);
  assert.ok(!log.some((l) => l.startsWith('light:')), 'the light socket was never paused');
});

test('a socket held for another reason (too many answers outstanding) is not resumed by its turn', async () => {
  const log: string[] = [];
  const turns = new ReadTurns(1, 4);
  const a = fakeSocket('a', log);
  turns.count(a.socket, a.holds);
  turns.count(a.socket, a.holds);
  a.holds.pipelined = true;
  await nextTurn();
  assert.equal(a.holds.throttled, false, 'its turn came');
  assert.equal(a.socket._paused, true, 'but it stays stopped while the pipelining hold lasts');
  assert.ok(!log.includes('a:resume'));
});
