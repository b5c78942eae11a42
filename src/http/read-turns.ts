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
 * turn parses at most `resumePerTurn` chunks from heavy sockets, and light
 * connections (probes, senders with one request at a time) never wait.
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
    let resumed = 0;
    for (const [socket, holds] of this.waiting) {
      if (resumed >= this.resumePerTurn) break;
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

  /** Counts one request dispatched on the socket; past its share, the socket stops reading until its next turn. */
  count(socket: HttpSocket, holds: ReadHolds): boolean {
    if (holds.turnRequests++ === 0) this.counted.push(holds);
    this.schedule();
    if (holds.turnRequests <= this.perTurn || holds.throttled) return false;
    holds.throttled = true;
    this.waiting.set(socket, holds);
    stopReading(socket);
    return true;
  }

  forget(socket: HttpSocket): void {
    this.waiting.delete(socket);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // The check phase: after this turn's poll phase has read from every ready socket.
    setImmediate(this.endTurn);
  }
}
