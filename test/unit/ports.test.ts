/** The test port helper never hands out a port fetch() refuses (a fresh-clone run drew 10080 and lost 15 s and the test). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawable, freePort } from '../helpers/ports.js';

test('fetch refuses port 10080 before connecting, and freePort never draws it', async () => {
  await assert.rejects(fetch('http://127.0.0.1:10080/'), (err: Error) => (err.cause as Error | undefined)?.message === 'bad port');
  assert.equal(drawable(10080), false);
  assert.equal(drawable(10081), true);
  const port = await freePort();
  assert.ok(drawable(port) && port >= 10_000, String(port));
});
