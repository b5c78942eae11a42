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

/**
 * Lingering close after refusing a body: the answer is sent, then FIN, while
 * whatever the client still sends is read and dropped for a short grace
 * period. Node would otherwise destroy the socket right after the answer, and
 * a socket closed with unread data sends a reset that makes the client lose
 * the 413 it was about to read.
 */
export function discardRest(req: IncomingMessage, graceMs = 2000): void {
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
  };
  req.resume();
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
