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

/** How long to wait before retrying when a non-blocking stdout is full (the reader is slower than us). */
const RETRY_FULL_MS = 2;
/** flush() blocks at most this long on a full stdout (a reader that stopped reading): then it gives up. */
const FLUSH_BLOCK_LIMIT_MS = 5000;

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
  // Nobody may be waiting (only non-delivery lines in it): a failed write is then reported by the next one.
  done.catch(() => {});
  return { done, resolve, reject };
}

export class BatchedDestination implements DestinationStream {
  private lines: string[] = [];
  /** The lines not yet handed to write(2), in order; their batch settles when the last byte is written. */
  private open: Batch | undefined;
  /** Bytes of an earlier batch still to write (stdout was full), and that batch. */
  private pendingBytes: Buffer | undefined;
  private pending: Batch | undefined;
  private scheduled = false;
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flushQueued();
  };

  constructor(private readonly fd: number, private readonly writeFn: WriteFn = writeSync) {}

  write(line: string): void {
    this.lines.push(line);
    this.open ??= newBatch();
    if (!this.scheduled && this.pendingBytes === undefined) {
      this.scheduled = true;
      // After the poll phase: every request read in this turn has added its line by then.
      setImmediate(this.flushSoon);
    }
  }

  /** Settles once every line written so far is in the kernel; rejects if the destination failed. */
  written(): Promise<void> {
    return this.open?.done ?? this.pending?.done ?? Promise.resolve();
  }

  /** pino's logger.flush(cb), used before exit: everything out, blocking while stdout is full (bounded), then cb. */
  flush(cb?: (err?: Error) => void): void {
    const deadline = performance.now() + FLUSH_BLOCK_LIMIT_MS;
    while (this.pendingBytes !== undefined || this.lines.length > 0) {
      if (this.writeSome()) continue;
      if (performance.now() > deadline) {
        const err = new Error(`log destination still full after ${FLUSH_BLOCK_LIMIT_MS} ms; lines dropped`);
        this.settle((batch) => batch.reject(err));
        this.open?.reject(err);
        this.lines = [];
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
      this.pendingBytes = Buffer.from(this.lines.join(''));
      this.pending = this.open;
      this.lines = [];
      this.open = undefined;
    }
    const bytes = this.pendingBytes;
    let offset = 0;
    try {
      while (offset < bytes.length) offset += this.writeFn(this.fd, bytes, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        this.pendingBytes = bytes.subarray(offset);
        return false;
      }
      this.settle((batch) => batch.reject(err as Error));
      return true;
    }
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
