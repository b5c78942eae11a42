/**
 * A pickle (protocol 4) writer for the values a webhook carries: None, bool,
 * int of any size, float, str, bytes, list, dict and tuple. What RQ's default
 * serializer (pickle.dumps) would write for the same values, less the memo
 * and frame opcodes, which only matter for shared references and streaming
 * reads; pickle.loads gives equal objects. The npm pickle packages either
 * only read pickles or spawn Python, hence this small writer.
 *
 * Opcodes are CPython's Lib/pickle.py names; lengths are little-endian.
 */
import type { PyValueSink } from './python-values.js';

const PROTO = 0x80;
const STOP = 0x2e; // .
const MARK = 0x28; // (
const NONE = 0x4e; // N
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;
const BININT1 = 0x4b; // K
const BININT2 = 0x4d; // M
const BININT = 0x4a; // J
const LONG1 = 0x8a;
const LONG4 = 0x8b;
const BINFLOAT = 0x47; // G
const SHORT_BINUNICODE = 0x8c;
const BINUNICODE = 0x58; // X
const SHORT_BINBYTES = 0x43; // C
const BINBYTES = 0x42; // B
const EMPTY_LIST = 0x5d; // ]
const APPENDS = 0x65; // e
const EMPTY_DICT = 0x7d; // }
const SETITEMS = 0x75; // u
const TUPLE = 0x74; // t

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** Python's unpickler decodes str with 'utf-8', 'surrogatepass': a lone surrogate (valid in JSON's \uD800) is encoded as its 3 bytes. */
const LONE_SURROGATE = /\p{Cs}/u;

function utf8SurrogatePass(s: string): Buffer {
  if (!LONE_SURROGATE.test(s)) return Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(out);
}

/** Two's complement, little-endian, in the fewest bytes that keep the sign (pickle's encode_long). */
function longBytes(n: bigint): Buffer {
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0xffn);
    out.push(byte);
    n >>= 8n;
    if ((n === 0n && (byte & 0x80) === 0) || (n === -1n && (byte & 0x80) !== 0)) return Buffer.from(out);
  }
}

export class PickleWriter implements PyValueSink {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;

  constructor() {
    this.byte(PROTO);
    this.byte(4);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  private uint32(n: number): void {
    this.reserve(4);
    this.len = this.buf.writeUInt32LE(n, this.len);
  }

  private raw(b: Buffer): void {
    this.reserve(b.length);
    this.len += b.copy(this.buf, this.len);
  }

  /** Opcode, then a 1-byte length below 256, else the long opcode with a 4-byte length; then the bytes. */
  private sized(short: number, long: number, data: Buffer): void {
    if (data.length < 256) {
      this.byte(short);
      this.byte(data.length);
    } else {
      this.byte(long);
      this.uint32(data.length);
    }
    this.raw(data);
  }

  none(): void {
    this.byte(NONE);
  }

  bool(value: boolean): void {
    this.byte(value ? NEWTRUE : NEWFALSE);
  }

  int(literal: string): void {
    const n = BigInt(literal);
    if (n >= 0n && n < 256n) {
      this.byte(BININT1);
      this.byte(Number(n));
    } else if (n >= 0n && n < 65536n) {
      this.byte(BININT2);
      this.reserve(2);
      this.len = this.buf.writeUInt16LE(Number(n), this.len);
    } else if (n >= INT32_MIN && n <= INT32_MAX) {
      this.byte(BININT);
      this.reserve(4);
      this.len = this.buf.writeInt32LE(Number(n), this.len);
    } else this.sized(LONG1, LONG4, longBytes(n));
  }

  float(value: number): void {
    this.byte(BINFLOAT);
    this.reserve(8);
    this.len = this.buf.writeDoubleBE(value, this.len);
  }

  str(value: string): void {
    // Most strings are short and well-formed: encoded straight into the buffer (a UTF-16 unit is at most 3 UTF-8 bytes).
    if (value.length * 3 < 256 && !LONE_SURROGATE.test(value)) {
      this.reserve(2 + value.length * 3);
      this.buf[this.len] = SHORT_BINUNICODE;
      const n = this.buf.write(value, this.len + 2, 'utf8');
      this.buf[this.len + 1] = n;
      this.len += 2 + n;
    } else this.sized(SHORT_BINUNICODE, BINUNICODE, utf8SurrogatePass(value));
  }

  bytes(value: Buffer): void {
    this.sized(SHORT_BINBYTES, BINBYTES, value);
  }

  beginList(): void {
    this.byte(EMPTY_LIST);
    this.byte(MARK);
  }

  endList(): void {
    this.byte(APPENDS);
  }

  beginDict(): void {
    this.byte(EMPTY_DICT);
    this.byte(MARK);
  }

  endDict(): void {
    this.byte(SETITEMS);
  }

  /** Items follow, then endTuple. */
  beginTuple(): void {
    this.byte(MARK);
  }

  endTuple(): void {
    this.byte(TUPLE);
  }

  /** The pickle, STOP included; the writer is done. */
  finish(): Buffer {
    this.byte(STOP);
    return this.buf.subarray(0, this.len);
  }
}
