/**
 * The request path's cheap checks answer exactly as the plain regular
 * expressions they replace: the overflow pre-check of JSON bodies and the
 * control-character escape of log lines (their speed: bench scenario micro).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJson, mayOverflow, PayloadError } from '../../src/http/json-payload.js';
import { encodeEscaped } from '../../src/observability/log-destination.js';

const REFERENCE_OVERFLOW = /\d[eE][+]?\d{3}|\d{100}/;
const REFERENCE_CONTROLS = /[\u007f-\u009f]/g;

/** Deterministic pseudo-random strings over an alphabet rich in digits and exponent letters. */
function* samples(count: number, alphabet: string, maxLength: number): Generator<string> {
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  for (let n = 0; n < count; n++) {
    const length = next() % maxLength;
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[next() % alphabet.length] as string;
    yield s;
  }
}

test('the overflow pre-check agrees with /\\d[eE][+]?\\d{3}|\\d{100}/', () => {
  const cases = ['1e308', '1E+309', '1.5e-400', '12e34', '"ab"', '9'.repeat(100), '9'.repeat(99), `x${'9'.repeat(100)}y`, `${'9'.repeat(99)}a${'9'.repeat(99)}`, `${'1'.repeat(49)}.${'1'.repeat(100)}`, '', '1e', '1e+', '1e+12'];
  for (const s of cases) assert.equal(mayOverflow(s), REFERENCE_OVERFLOW.test(s), JSON.stringify(s));
  // Long digit runs placed at every offset around the sampling step.
  for (let offset = 0; offset < 120; offset++) {
    for (const run of [98, 99, 100, 101, 150]) {
      const s = `${'a'.repeat(offset)}${'7'.repeat(run)}b`;
      assert.equal(mayOverflow(s), REFERENCE_OVERFLOW.test(s), `offset ${offset}, run ${run}`);
    }
  }
  for (const s of samples(3000, '0123456789999eE+-.a', 400)) assert.equal(mayOverflow(s), REFERENCE_OVERFLOW.test(s), JSON.stringify(s));
});

test('bodies that overflow are refused; others parse as before', () => {
  assert.throws(() => decodeJson(Buffer.from('{"n":1e400}'), 64), PayloadError);
  assert.throws(() => decodeJson(Buffer.from(`[${'9'.repeat(400)}]`), 64), PayloadError);
  assert.deepEqual(decodeJson(Buffer.from('{"n":1e300,"m":1e-400,"k":12345678901234567890}'), 64), { n: 1e300, m: 0, k: 12345678901234567890 });
});

test('the log batch encoding agrees with escaping every DEL and C1 control, and encodes plain text unchanged', () => {
  const reference = (line: string): string => line.replace(REFERENCE_CONTROLS, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  const cases = ['{"a":"plain"}', '{"a":"\u007f"}', '{"a":"\u0085x\u009f"}', '{"a":"é ü \u00a0"}', '{"a":"\u2028 😀"}', '{"a":"\ud800"}', ''];
  const same = (line: string): void => assert.deepEqual(encodeEscaped(line), Buffer.from(reference(line)), JSON.stringify(line));
  cases.forEach(same);
  for (const line of samples(2000, 'ab"{}\u007f\u0080\u0090\u009f\u00a0©é😀', 60)) same(line);
  const plain = '{"level":30,"msg":"webhook received"}';
  assert.equal(encodeEscaped(plain).toString(), plain);
});
