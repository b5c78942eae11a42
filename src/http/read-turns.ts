/**
 * Fair reading across HTTP sockets: a socket that delivers more than its
 * share of requests in one turn of the event loop stops reading, and waiting
 * sockets get their turn back a few at a time, oldest first.
 *
 * Why: node parses a whole 64 KiB read at once, and requests that complete
 * without waiting for I/O (a log webhook) are answered before the next one is
 * parsed, so the per-socket pipelining limit never engages and one read
 * callback drains up to 32 reads (2 MiB, ~3 400 small requests) per socket.
 * Measured with 32 sockets holding 1 MiB of pipelined POSTs each: ~400 ms per
 * loop turn, one accept per turn, /health answered after 2–6 s. With turns, a
 * socket's requests past its share wait for later turns (handled in order, a
 * bounded number per turn), a turn reads from at most `resumePerTurn` heavy
 * sockets, and light connections (probes, senders with one request at a
 * time) never wait.
 */
import type { Socket } from 'node:net';

/** The parts of node's HTTP socket its own backpressure uses (lib/_http_server.js); ours cooperates with them. */
export type HttpSocket = Socket & { _paused?: boolean; parser?: { pause(): void; resume(): void } | null };

/** Why a socket does not read: more than one reason can hold at once. */
export interface ReadHolds {
  /** Too many answers outstanding on the socket. */
  pipelined: boolean;
  /** The socket used up its turn and waits for another. */
  throttled: boolean;
  /** Requests dispatched in the current turn. */
  turnRequests: number;
  /** Requests parsed past the socket's share, in order, handled in later turns. */
  deferred: (() => void)[] | undefined;
}

/** What node does itself when a socket's write buffer is full: stop reading; node pauses the parser after the current chunk. */
export function stopReading(socket: HttpSocket): void {
  socket._paused = true;
  socket.pause();
}

/** Undoes stopReading once no hold is left. */
export function resumeIfFree(socket: HttpSocket, holds: ReadHolds): void {
  if (holds.pipelined || holds.throttled || socket.destroyed || socket.writableNeedDrain) return;
  socket._paused = false;
  socket.parser?.resume();
  socket.resume();
}

export class ReadTurns {
  private readonly counted: ReadHolds[] = [];
  private readonly waiting = new Map<HttpSocket, ReadHolds>();
  private scheduled = false;
  private readonly endTurn = (): void => {
    this.scheduled = false;
    for (const holds of this.counted) holds.turnRequests = 0;
    this.counted.length = 0;
    // Deferred requests first, round-robin, at most perTurn per socket and perTurn × resumePerTurn in all;
    // then sockets with nothing deferred read again, resumePerTurn of them.
    let handled = 0;
    let resumed = 0;
    const budget = this.perTurn * this.resumePerTurn;
    for (const [socket, holds] of [...this.waiting]) {
      const queue = holds.deferred;
      if (queue && queue.length > 0) {
        if (handled >= budget) continue;
        const now = queue.splice(0, Math.min(this.perTurn, budget - handled));
        handled += now.length;
        // Back of the line: the next turn starts with the sockets that waited longest.
        this.waiting.delete(socket);
        this.waiting.set(socket, holds);
        for (const run of now) run();
        if (queue.length > 0) continue;
      }
      if (resumed >= this.resumePerTurn) continue;
      this.waiting.delete(socket);
      holds.throttled = false;
      resumeIfFree(socket, holds);
      resumed++;
    }
    if (this.waiting.size > 0) this.schedule();
  };

  /**
   * @param perTurn requests one socket may deliver in one turn before it waits
   * @param resumePerTurn waiting sockets given their turn back per turn of the loop
   */
  constructor(private readonly perTurn: number, private readonly resumePerTurn: number) {}

  /**
   * Admits one request dispatched on the socket: true when `run(arg)` was called now. Past the socket's
   * share in this turn (or behind requests already waiting), the socket stops reading and the call
   * waits for a later turn, in order: the parser has already read the rest of its 64 KiB chunk, and
   * handling it all in this turn is what held the loop. `run` and `arg` apart: the common path
   * allocates no closure per request.
   */
  admit<T>(socket: HttpSocket, holds: ReadHolds, run: (arg: T) => void, arg: T): boolean {
    if (holds.turnRequests++ === 0) this.counted.push(holds);
    this.schedule();
    if (holds.deferred !== undefined && holds.deferred.length > 0) {
      holds.deferred.push(() => run(arg));
      return false;
    }
    if (holds.turnRequests <= this.perTurn) {
      run(arg);
      return true;
    }
    (holds.deferred ??= []).push(() => run(arg));
    if (!holds.throttled) {
      holds.throttled = true;
      this.waiting.set(socket, holds);
      stopReading(socket);
    }
    return false;
  }

  /** The socket closed: what waited on it is dropped (its answers can no longer be written; none was acknowledged). */
  forget(socket: HttpSocket, holds: ReadHolds | undefined): void {
    this.waiting.delete(socket);
    if (holds) holds.deferred = undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // The check phase: after this turn's poll phase has read from every ready socket.
    setImmediate(this.endTurn);
  }
}
