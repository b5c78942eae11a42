/**
 * Reads a request body with the webhook's byte limit: Content-Length is
 * checked before reading, and a chunked body is cut off as soon as it passes
 * the limit.
 */
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {}
export class BodyAbortedError extends Error {}

export function declaredLengthExceeds(req: IncomingMessage, limit: number): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > limit;
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new BodyTooLargeError(`body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onAbort = (): void => {
      cleanup();
      reject(new BodyAbortedError('client closed the request before the body was complete'));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new BodyAbortedError(err.message));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAbort);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAbort);
    req.on('error', onError);
  });
}

/** After an early rejection, at most this much of the rest of the body is read (and dropped) before the socket closes. */
export const DRAIN_LIMIT_BYTES = 64 * 1024;
/** ... and for at most this long. */
export const DRAIN_LIMIT_MS = 1000;

interface CountsBytes {
  inc(n: number): void;
}

const draining = new WeakSet<IncomingMessage>();

/**
 * Whether the request has body bytes not read yet. `req.complete` alone is not it: node sets it
 * after the request callback even for a bodiless GET, so an answer given synchronously (express
 * answering /ready) would look "early" and the keep-alive socket would be drained and cut.
 */
export function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Lingering close after answering a request whose body was not read (401,
 * 403, 404, 413, 415, ...): the answer is sent, then FIN, while whatever the
 * client still sends is read and dropped — at most DRAIN_LIMIT_BYTES or
 * DRAIN_LIMIT_MS (past the byte limit reading stops), then the socket is destroyed. Node would otherwise either
 * read and discard an endless upload forever (keep-alive) or destroy the
 * socket right after the answer, and a socket closed with unread data sends a
 * reset that makes the client lose the answer it was about to read.
 */
export function drainRejected(req: IncomingMessage, discarded?: CountsBytes): void {
  if (!bodyUnread(req) || draining.has(req)) return;
  draining.add(req);
  const socket = req.socket;
  if (socket.destroyed) return;
  socket.destroySoon = () => {
    socket.end();
  };
  let read = 0;
  const onData = (chunk: Buffer): void => {
    read += chunk.length;
    discarded?.inc(chunk.length);
    // Past the limit stop reading instead of destroying at once: a reset now could reach the
    // client before it read the answer. The kernel window then stalls the upload, and the
    // timer below closes the socket once the client has had DRAIN_LIMIT_MS to read.
    if (read > DRAIN_LIMIT_BYTES) {
      // Both: a flowing request resumes its socket on every read.
      req.pause();
      socket.pause();
    }
  };
  req.on('data', onData);
  req.resume();
  const timer = setTimeout(() => socket.destroy(), DRAIN_LIMIT_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** Marks an answer given before the body was read: it says `Connection: close`, and the rest of the body is drained (bounded). */
export function closeAfterAnswer(req: IncomingMessage, res: { setHeader(name: string, value: string): unknown; readonly headersSent: boolean }): void {
  if (bodyUnread(req) && !res.headersSent) res.setHeader('connection', 'close');
}
