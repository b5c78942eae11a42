/**
 * The process log's destination: lines written during one turn of the event
 * loop go out together in one write(2), and `written()` tells a caller when
 * its line is in the kernel. The log output waits for that before the sender
 * gets 2xx, so an acknowledged delivery survives even a SIGKILL.
 *
 * Why not pino's default (sonic-boom): in async mode it acknowledges nothing
 * and measures the byte length of its whole pending buffer on every line
 * (8% of cwm's CPU under load); in sync mode it makes one syscall per line.
 */
import { writeSync } from 'node:fs';
import { symbols, type DestinationStream, type Logger } from 'pino';

/** write(2) as node exposes it; replaceable so tests can play a slow or broken reader. */
export type WriteFn = (fd: number, buffer: Buffer, offset: number) => number;

export interface BatchedDestinationOptions {
  /** Default: fs.writeSync. */
  readonly write?: WriteFn;
  /**
   * While a non-blocking stdout is full, lines wait in memory up to this many
   * characters; beyond it new lines are dropped and their deliveries fail
   * (503) instead of the process growing until it dies. Default 64 Mi.
   */
  readonly maxQueuedChars?: number;
  /** flush() waits at most this long for a full non-blocking stdout, then drops what is left. Default 5000. */
  readonly flushLimitMs?: number;
  /** Where a failed write is reported (the log itself cannot say it). Default: one line on stderr. */
  readonly onError?: (err: Error) => void;
}

/** How long to wait before retrying when a non-blocking stdout is full (the reader is slower than us). */
const RETRY_FULL_MS = 2;

interface Batch {
  readonly done: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch may hold only lines nobody waits for; its failure is reported through onError.
  done.catch(() => {});
  return { done, resolve, reject };
}

function reportOnStderr(err: Error): void {
  try {
    writeSync(2, `cwm: writing the log to stdout failed: ${err.message}\n`);
  } catch {
    // stderr is gone too: nothing left to tell.
  }
}

/**
 * DEL and the C1 controls (U+007F–U+009F: header bytes 0x80–0x9F decoded as
 * latin1) are valid in JSON strings, so JSON.stringify leaves them raw, and a
 * terminal or log viewer acts on them. A pino line is JSON whose strings are
 * the only place they can occur: escaping them as \u00XX keeps the line's
 * meaning and makes it plain ASCII-safe text.
 */
const CONTROLS = /[\u007f-\u009f]/g;

export function escapeControls(line: string): string {
  CONTROLS.lastIndex = 0;
  if (!CONTROLS.test(line)) return line;
  return line.replace(CONTROLS, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/**
 * A batch's text as bytes, controls escaped. In UTF-8, DEL is byte 0x7f and
 * every C1 control starts with byte 0xc2, so two memchr scans of the encoded
 * batch clear almost every batch; only one holding either byte (0xc2 also
 * starts U+00A0–U+00BF, "©" for one) takes the exact check and, if needed,
 * is escaped and encoded again. In a batch of 32 log-output lines this adds
 * ~40 ns per line to the encoding the write needs anyway, where scanning each
 * line's string (not yet flat as pino makes it) added ~300 ns (bench scenario micro).
 */
export function encodeEscaped(text: string): Buffer {
  const bytes = Buffer.from(text);
  return bytes.indexOf(0x7f) === -1 && bytes.indexOf(0xc2) === -1 ? bytes : Buffer.from(escapeControls(text));
}

export class BatchedDestination implements DestinationStream {
  private readonly writeFn: WriteFn;
  private readonly maxQueuedChars: number;
  private readonly flushLimitMs: number;
  private readonly onError: (err: Error) => void;

  private lines: string[] = [];
  private queuedChars = 0;
  /** The lines not yet handed to write(2), in order; their batch settles when the last byte is written. */
  private open: Batch | undefined;
  /** Bytes of an earlier batch still to write (stdout was full), and that batch. */
  private pendingBytes: Buffer | undefined;
  private pending: Batch | undefined;
  /** The last line offered was dropped (queue full): written() fails for the caller who logged it. */
  private lastDropped: Error | undefined;
  /** Whether the last byte that reached stdout ended a line: after a write failed part-way, the next write starts a new one. */
  private atLineStart = true;
  private failing = false;
  private scheduled = false;
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flushQueued();
  };

  constructor(private readonly fd: number, options: BatchedDestinationOptions = {}) {
    this.writeFn = options.write ?? writeSync;
    this.maxQueuedChars = options.maxQueuedChars ?? 64 * 1024 * 1024;
    this.flushLimitMs = options.flushLimitMs ?? 5000;
    this.onError = options.onError ?? reportOnStderr;
  }

  write(line: string): void {
    if (this.pendingBytes !== undefined && this.queuedChars + line.length > this.maxQueuedChars) {
      this.lastDropped = new Error(`log destination full: stdout has not been read while ${this.queuedChars} characters waited`);
      return;
    }
    this.lastDropped = undefined;
    this.lines.push(line);
    this.queuedChars += line.length;
    this.open ??= newBatch();
    if (!this.scheduled && this.pendingBytes === undefined) {
      this.scheduled = true;
      // After the poll phase: every request read in this turn has added its line by then.
      setImmediate(this.flushSoon);
    }
  }

  /** Settles once every line written so far is in the kernel; rejects if the destination failed or dropped the last line. */
  written(): Promise<void> {
    if (this.lastDropped) return Promise.reject(this.lastDropped);
    return this.open?.done ?? this.pending?.done ?? Promise.resolve();
  }

  /**
   * pino's logger.flush(cb), used before exit: everything out, then cb. On a
   * full non-blocking stdout it waits at most flushLimitMs; a blocking stdout
   * whose reader stopped blocks it (and so the exit) until the reader reads.
   */
  flush(cb?: (err?: Error) => void): void {
    const deadline = performance.now() + this.flushLimitMs;
    while (this.pendingBytes !== undefined || this.lines.length > 0) {
      if (this.writeSome()) continue;
      if (performance.now() > deadline) {
        const err = new Error(`log destination still full after ${this.flushLimitMs} ms; lines dropped`);
        this.settle((batch) => batch.reject(err));
        this.open?.reject(err);
        this.lines = [];
        this.queuedChars = 0;
        this.open = undefined;
        cb?.(err);
        return;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_FULL_MS);
    }
    cb?.();
  }

  /**
   * Writes the pending batch, then the open one; false when stdout is full.
   * A write error fails the batch (its deliveries are answered 503) and the
   * lines are dropped: there is nowhere else to put them.
   */
  private writeSome(): boolean {
    if (this.pendingBytes === undefined) {
      if (this.lines.length === 0) return true;
      this.pendingBytes = encodeEscaped((this.atLineStart ? '' : '\n') + this.lines.join(''));
      this.pending = this.open;
      this.lines = [];
      this.queuedChars = 0;
      this.open = undefined;
    }
    const bytes = this.pendingBytes;
    let offset = 0;
    try {
      while (offset < bytes.length) {
        const n = this.writeFn(this.fd, bytes, offset);
        if (n > 0) this.atLineStart = bytes[offset + n - 1] === 0x0a;
        offset += n;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        this.pendingBytes = bytes.subarray(offset);
        return false;
      }
      if (!this.failing) this.onError(err as Error);
      this.failing = true;
      this.settle((batch) => batch.reject(err as Error));
      return true;
    }
    this.failing = false;
    this.settle((batch) => batch.resolve());
    return true;
  }

  private settle(how: (batch: Batch) => void): void {
    const batch = this.pending;
    this.pendingBytes = undefined;
    this.pending = undefined;
    if (batch) how(batch);
  }

  /** Event-loop path: write what is there; if stdout is full, try again shortly without blocking. */
  private flushQueued(): void {
    while (this.pendingBytes !== undefined || this.lines.length > 0) {
      if (!this.writeSome()) {
        setTimeout(() => this.flushQueued(), RETRY_FULL_MS);
        return;
      }
    }
  }
}

/**
 * For a logger: when its lines so far are in the kernel. Loggers writing to
 * any other stream (tests' captures) count a line as written once handed over.
 */
export function whenWritten(logger: Logger): () => Promise<void> {
  const stream: unknown = (logger as unknown as Record<symbol, unknown>)[symbols.streamSym];
  if (stream instanceof BatchedDestination) return () => stream.written();
  return () => Promise.resolve();
}
