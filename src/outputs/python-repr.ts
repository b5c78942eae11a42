/**
 * Python's repr() of the values a webhook carries, cut as RQ cuts it for a
 * job's description (rq.utils.truncate_long_string: the first `max` code
 * points, then "..."). RQ shows the description in `rq info`, its dashboards
 * and each worker log line; CWM's jobs carry `function(repr(payload)[:75]...,
 * repr(headers)[:75]...)`. The writer stops once it has enough characters,
 * so a large payload costs no more than a small one.
 */
import { PyTreeBuilder, walkValue, type PyValueSink } from './python-values.js';

/** Python's str.isprintable() is false for these categories (the space aside, which is ASCII and printed as is). */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

const quoteFor = (hasSingle: boolean, hasDouble: boolean): string => (hasSingle && !hasDouble ? '"' : "'");

/** CPython's unicode_repr; `whole` (the string `s` is the head of) picks the quote. */
export function strRepr(s: string, whole = s): string {
  const quote = quoteFor(whole.includes("'"), whole.includes('"'));
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xff) out += `\\x${hex(cp, 2)}`;
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + quote;
}

/** CPython's bytes_repr; `whole` (the bytes `b` is the head of) picks the quote. */
export function bytesRepr(b: Buffer, whole = b): string {
  const quote = quoteFor(whole.includes(0x27), whole.includes(0x22));
  let out = `b${quote}`;
  for (const c of b) {
    const ch = String.fromCharCode(c);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${hex(c, 2)}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's repr(float): the shortest digits that round-trip, fixed notation for exponents -4..15, else d.ddde±XX. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest round-trip digits, as Python's repr does.
  const [mantissa = '', exp = '0'] = x.toExponential().split('e');
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  const e = Number(exp);
  if (e < -4 || e >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0] ?? ''}${frac}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const frac = digits.slice(e + 1);
  return `${sign}${whole}.${frac || '0'}`;
}

/** Stops a walk once the repr is long enough to be cut. */
class Enough extends Error {}
/** One instance, thrown every time: building an Error (its stack) cost ~60 µs a delivery, more than the rest of the repr. */
const ENOUGH = new Enough('repr long enough');
/** A dict repeats a key: its repr (last value at the first position) needs the whole dict first. */
class RepeatedKey extends Error {}

export class ReprWriter implements PyValueSink {
  private out = '';
  /** Per open container: how many items (dict: keys and values) it has so far. */
  private readonly counts: number[] = [];
  /** Per open container: whether it is a dict (its odd items are values). */
  private readonly inDict: boolean[] = [];
  /** Per open dict: its keys so far (to notice a repeated one). */
  private readonly keys: (Set<string> | undefined)[] = [];
  /** UTF-16 units: twice the code points kept guarantees enough code points, whatever the planes. */
  private readonly stopAt: number;

  constructor(maxCodePoints: number) {
    this.stopAt = 2 * (maxCodePoints + 1);
  }

  private piece(s: string): void {
    this.out += s;
    if (this.out.length >= this.stopAt) throw ENOUGH;
  }

  /** Separator before an item: ", " between items, ": " between a key and its value. */
  private item(): void {
    const depth = this.counts.length - 1;
    const n = this.counts[depth];
    if (n === undefined) return;
    this.counts[depth] = n + 1;
    if (n === 0) return;
    this.piece(this.inDict[depth] && n % 2 === 1 ? ': ' : ', ');
  }

  private open(bracket: string, dict: boolean): void {
    this.item();
    this.piece(bracket);
    this.counts.push(0);
    this.inDict.push(dict);
    this.keys.push(dict ? new Set() : undefined);
  }

  private close(bracket: string): void {
    this.counts.pop();
    this.inDict.pop();
    this.keys.pop();
    this.piece(bracket);
  }

  none(): void {
    this.item();
    this.piece('None');
  }
  bool(value: boolean): void {
    this.item();
    this.piece(value ? 'True' : 'False');
  }
  int(literal: string): void {
    this.item();
    this.piece(BigInt(literal).toString());
  }
  float(value: number): void {
    this.item();
    this.piece(floatRepr(value));
  }
  str(value: string): void {
    const depth = this.counts.length - 1;
    const keys = this.keys[depth];
    if (keys && (this.counts[depth] ?? 0) % 2 === 0) {
      if (keys.has(value)) throw new RepeatedKey();
      keys.add(value);
    }
    this.item();
    // Only the head can be shown: no need to escape a whole long string.
    this.piece(strRepr(value.slice(0, this.stopAt), value));
  }
  bytes(value: Buffer): void {
    this.item();
    // Only the head can be shown: no need to escape a whole blob.
    this.piece(bytesRepr(value.subarray(0, this.stopAt), value));
  }
  beginList(): void {
    this.open('[', false);
  }
  endList(): void {
    this.close(']');
  }
  beginDict(): void {
    this.open('{', true);
  }
  endDict(): void {
    this.close('}');
  }

  /** Runs `walk` into a fresh writer and returns the repr, cut to `max` code points plus "..." as RQ does. */
  static truncated(max: number, walk: (sink: PyValueSink) => void): string {
    let w = new ReprWriter(max);
    try {
      walk(w);
    } catch (err) {
      if (err instanceof RepeatedKey) {
        // Rare (JSON allows it, senders seldom do it): build the values whole, as json.loads does, then write them.
        const tree = new PyTreeBuilder();
        walk(tree);
        w = new ReprWriter(max);
        try {
          walkValue(tree.value, w);
        } catch (again) {
          if (!(again instanceof Enough)) throw again;
        }
      } else if (!(err instanceof Enough)) throw err;
    }
    const points = Array.from(w.out);
    return points.length > max ? `${points.slice(0, max).join('')}...` : w.out;
  }
}
