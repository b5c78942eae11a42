/**
 * Python values as a stream of events, for the writers that turn a webhook's
 * payload into what a Python program would hold after CWM's `json.loads`:
 * the pickle an RQ worker unpickles (python-pickle.ts) and the repr RQ shows
 * as the job's description (python-repr.ts).
 *
 * The payload is read from the JSON text, not from the JavaScript value, so
 * that it keeps what JSON.parse loses and Python keeps: `10.0` and `1e2` are
 * floats, `10` is an int, and `12345678901234567890` is that exact int (a
 * double would make it ...568). Keys are plain strings here: `__proto__` is
 * an ordinary key, and a repeated key is assigned twice, so the last value
 * wins at the first position, as in a Python dict.
 */

export interface PyValueSink {
  none(): void;
  bool(value: boolean): void;
  /** A decimal integer literal, optionally signed; any size. */
  int(literal: string): void;
  float(value: number): void;
  str(value: string): void;
  bytes(value: Buffer): void;
  /** Items follow, then endList. */
  beginList(): void;
  endList(): void;
  /** Key (a str) and value alternate, then endDict. */
  beginDict(): void;
  endDict(): void;
}

/** A JSON text that JSON.parse would refuse: the receiver parsed it already, so this means a bug, never a sender's input. */
export class PyJsonError extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** Walks one JSON text (already accepted by the receiver's decodeJson, so depth is bounded) into `sink`. */
export function walkJson(text: string, sink: PyValueSink): void {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const skipSpace = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const expect = (ch: string): void => {
    skipSpace();
    if (text[i] !== ch) throw new PyJsonError(`expected ${ch} at ${i}`);
    i++;
  };
  const string = (): string => {
    const start = i;
    let escaped = false;
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        escaped = true;
        i++;
      } else if (c === 0x22) break;
    }
    if (i >= text.length) throw new PyJsonError(`unterminated string at ${start}`);
    i++;
    // Escapes (\uXXXX pairs included) decoded by the engine's own JSON parser, exactly as for the payload.
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      sink.beginDict();
      skipSpace();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          skipSpace();
          if (text[i] !== '"') throw new PyJsonError(`expected a key at ${i}`);
          sink.str(string());
          expect(':');
          value();
          skipSpace();
          if (text[i] === ',') i++;
          else if (text[i] === '}') {
            i++;
            break;
          } else throw new PyJsonError(`expected , or } at ${i}`);
        }
      }
      sink.endDict();
    } else if (c === '[') {
      i++;
      sink.beginList();
      skipSpace();
      if (text[i] === ']') i++;
      else {
        for (;;) {
          value();
          skipSpace();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            break;
          } else throw new PyJsonError(`expected , or ] at ${i}`);
        }
      }
      sink.endList();
    } else if (c === '"') sink.str(string());
    else if (text.startsWith('true', i)) {
      i += 4;
      sink.bool(true);
    } else if (text.startsWith('false', i)) {
      i += 5;
      sink.bool(false);
    } else if (text.startsWith('null', i)) {
      i += 4;
      sink.none();
    } else {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) throw new PyJsonError(`unexpected character at ${i}`);
      i = NUMBER.lastIndex;
      // Python's json.loads: a fraction or an exponent makes a float, else an int of any size.
      if (m[1] !== undefined || m[2] !== undefined) sink.float(Number(m[0]));
      else sink.int(m[0]);
    }
  };

  value();
  skipSpace();
  if (i !== text.length) throw new PyJsonError(`trailing characters at ${i}`);
}

/** A dict of str → str (request headers), in insertion order. */
export function walkStrDict(record: Readonly<Record<string, string>>, sink: PyValueSink): void {
  sink.beginDict();
  for (const [k, v] of Object.entries(record)) {
    sink.str(k);
    sink.str(v);
  }
  sink.endDict();
}

/** A Python value held whole: int is bigint, float is number, a dict a Map (a repeated key keeps its first position, its last value). */
export type PyValue = null | boolean | bigint | number | string | Buffer | PyValue[] | Map<string, PyValue>;

/** Builds the PyValue a walk describes. */
export class PyTreeBuilder implements PyValueSink {
  /** Open containers; a dict's pending key, when its value is still to come. */
  private readonly stack: { container: PyValue[] | Map<string, PyValue>; key: string | undefined }[] = [];
  value: PyValue = null;

  private add(v: PyValue): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) this.value = v;
    else if (Array.isArray(top.container)) top.container.push(v);
    else if (top.key === undefined) top.key = v as string;
    else {
      top.container.set(top.key, v);
      top.key = undefined;
    }
  }

  none(): void {
    this.add(null);
  }
  bool(value: boolean): void {
    this.add(value);
  }
  int(literal: string): void {
    this.add(BigInt(literal));
  }
  float(value: number): void {
    this.add(value);
  }
  str(value: string): void {
    this.add(value);
  }
  bytes(value: Buffer): void {
    this.add(value);
  }
  beginList(): void {
    const list: PyValue[] = [];
    this.add(list);
    this.stack.push({ container: list, key: undefined });
  }
  endList(): void {
    this.stack.pop();
  }
  beginDict(): void {
    const dict = new Map<string, PyValue>();
    this.add(dict);
    this.stack.push({ container: dict, key: undefined });
  }
  endDict(): void {
    this.stack.pop();
  }
}

/** Walks a PyValue into `sink`. */
export function walkValue(v: PyValue, sink: PyValueSink): void {
  if (v === null) sink.none();
  else if (typeof v === 'boolean') sink.bool(v);
  else if (typeof v === 'bigint') sink.int(v.toString());
  else if (typeof v === 'number') sink.float(v);
  else if (typeof v === 'string') sink.str(v);
  else if (Buffer.isBuffer(v)) sink.bytes(v);
  else if (Array.isArray(v)) {
    sink.beginList();
    for (const item of v) walkValue(item, sink);
    sink.endList();
  } else {
    sink.beginDict();
    for (const [k, item] of v) {
      sink.str(k);
      walkValue(item, sink);
    }
    sink.endDict();
  }
}
