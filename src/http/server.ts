/** One node:http server: webhook routes go to the lean handler, everything else to the express admin app. */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';

/**
 * `draining()` turns true on shutdown: every answer from then on carries
 * `Connection: close`, so keep-alive clients move to another instance and
 * the server can finish once the in-flight requests are answered.
 */
export function createHttpServer(webhook: (req: IncomingMessage, res: ServerResponse) => void, admin: Express, draining: () => boolean = () => false): Server {
  // Host is not used for routing; without this option node answers a Host-less request with an empty, non-JSON 400.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    if (draining()) res.setHeader('connection', 'close');
    if (req.url !== undefined && req.url.startsWith('/webhook/')) webhook(req, res);
    else admin(req, res);
  });
  // Hostile clients must not hold sockets forever; senders are machines that finish quickly.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', answerClientError);
  return server;
}

/**
 * Requests node's parser refuses (oversized headers, broken framing) still get
 * a JSON answer, like every other error, and the socket is closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({ status: 'error', error: status === 431 ? 'request headers too large' : status === 408 ? 'request timed out' : 'malformed HTTP request' });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
