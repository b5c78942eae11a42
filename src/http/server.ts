/**
 * One node:http server: webhook routes go to the lean handler, everything
 * else to the express admin app. It also owns what protects the process from
 * hostile clients at the connection level:
 *
 * - MAX_CONNECTIONS (default derived from the open-file limit): beyond it the
 *   oldest connection without a request in progress (a slow-header client, an
 *   idle keep-alive) is closed to make room, so a new connection — a probe,
 *   a sender — always gets in; only when every slot has a request in progress
 *   is the new one refused. Both are counted and logged (rate-limited).
 * - Timeouts (headers, request, keep-alive) are checked every
 *   CONNECTIONS_CHECK_INTERVAL_MS instead of node's 30 s.
 * - Pipelining: at MAX_PIPELINED_REQUESTS unanswered requests on one socket,
 *   reading stops until answers are written; requests parsed beyond twice
 *   that (from data already read) get 503 unprocessed, and a client that
 *   leaves more than MAX_QUEUED_RESPONSE_BYTES of answers unread is cut off.
 * - Fairness: a socket that delivers more than MAX_PIPELINED_REQUESTS in one
 *   turn of the event loop waits for its next turn (read-turns.ts), so a few
 *   flooding sockets cannot hold the loop and new connections get in.
 * - A request answered before its body was read is drained for at most
 *   64 KiB or 1 s, then the socket closes (see body.ts).
 * - `Expect: 100-continue` is answered by the webhook handler only after the
 *   header checks passed (node's automatic 100 would invite the body first).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { ThrottledLog } from '../observability/log-throttle.js';
import { bodyUnread, drainRejected } from './body.js';
import { ReadTurns, resumeIfFree, stopReading, type HttpSocket, type ReadHolds } from './read-turns.js';

export interface HttpServerOptions {
  /** Turns true on shutdown: every answer from then on carries `Connection: close`. */
  readonly draining?: () => boolean;
  readonly maxConnections: number;
  readonly maxPipelinedRequests: number;
  readonly maxQueuedResponseBytes: number;
  readonly connectionsCheckIntervalMs: number;
  readonly headersTimeoutMs: number;
  readonly logSummaryIntervalMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface HttpServer {
  readonly server: Server;
  /** Shutdown: every in-flight request whose answer is not written yet will say `Connection: close`. */
  beginDrain(): void;
  close(): void;
}

interface Conn extends ReadHolds {
  outstanding: number;
  resumeScheduled: boolean;
  /** A parse error arrived while earlier requests were still being answered: sent after them. */
  deferredError: string | undefined;
  errored: boolean;
  /** The latest request on the connection: when a parse error hits its body, the error answer is its own. */
  last: IncomingMessage | undefined;
  /** Answers in progress on the connection, in order (one unless pipelined): shutdown marks them `Connection: close`. */
  readonly answering: ServerResponse[];
}

/** Requests on the connection still waiting for their answer, not counting one whose body the parser just refused. */
function answersPending(conn: Conn): number {
  return conn.outstanding - (conn.last !== undefined && !conn.last.complete ? 1 : 0);
}

/**
 * Sockets that used up their turn, given it back per turn of the loop. Each parses up to one
 * 64 KiB chunk (~100 small requests, ~5 ms here): 4 keep a turn near 20 ms under a flood.
 */
const HEAVY_SOCKETS_PER_TURN = 4;

export function createHttpServer(webhook: (req: IncomingMessage, res: ServerResponse) => void, admin: Express, options: HttpServerOptions): HttpServer {
  const { metrics, logger } = options;
  const draining = options.draining ?? (() => false);
  const conns = new WeakMap<Socket, Conn>();
  /** Connections with no request in progress, oldest first (a Set keeps insertion order). */
  const idle = new Set<Socket>();
  /**
   * Every open connection (added and removed once per connection). Answers in progress live on
   * their connection, not in a Set of responses: adding each new response to a Set cost ~20% of a
   * log webhook's CPU and doubled its p99 (bench ab, 10 rounds, this build with and without).
   */
  const sockets = new Set<Socket>();
  const turns = new ReadTurns(options.maxPipelinedRequests, HEAVY_SOCKETS_PER_TURN);
  const refusals = new ThrottledLog(logger, { event: 'connection_refused', intervalMs: options.logSummaryIntervalMs, suppressed: metrics.suppressedLogLines });
  const pressure = new ThrottledLog(logger, { event: 'backpressure', intervalMs: options.logSummaryIntervalMs, suppressed: metrics.suppressedLogLines });

  /*
   * The per-response handlers are made once per server, not per request: `this` is the response,
   * its request and socket come from it (no closures or once-wrappers to allocate per request).
   */
  // 'prefinish', not 'finish': node's own finish handler runs first otherwise, dumps the
  // body uncounted and calls socket.destroySoon() with the upload still arriving, which
  // resets the connection and makes a fast-writing client lose the answer (401, 413, ...).
  function onPrefinish(this: ServerResponse): void {
    if (bodyUnread(this.req)) drainRejected(this.req, metrics.discardedBodyBytes);
  }

  function onClose(this: ServerResponse): void {
    const socket = this.req.socket as HttpSocket;
    const conn = conns.get(socket);
    if (this.writableFinished && !socket.destroyed && socket.writableLength > options.maxQueuedResponseBytes) {
      metrics.backpressure.inc({ action: 'destroyed' });
      pressure.warn('destroyed', { queued_bytes: socket.writableLength, limit: options.maxQueuedResponseBytes }, 'client leaves its answers unread; connection closed');
      socket.destroy();
    }
    if (!conn) return;
    const at = conn.answering.indexOf(this);
    if (at !== -1) conn.answering.splice(at, 1);
    conn.outstanding--;
    if (socket.destroyed) return;
    if (conn.deferredError !== undefined) {
      if (answersPending(conn) <= 0) {
        socket.end(conn.deferredError);
        conn.deferredError = undefined;
      }
      return;
    }
    if (conn.outstanding === 0) idle.add(socket);
    if (conn.pipelined && !conn.resumeScheduled && conn.outstanding < options.maxPipelinedRequests) {
      // Resumed from the check phase, not here: 'close' is emitted from process.nextTick, and
      // resuming here parses the next buffered chunk, whose answers close in the next tick, and
      // so on without the loop ever polling.
      conn.resumeScheduled = true;
      setImmediate(() => {
        conn.resumeScheduled = false;
        if (conn.outstanding >= options.maxPipelinedRequests) return;
        conn.pipelined = false;
        resumeIfFree(socket, conn);
      });
    }
  }

  function route(res: ServerResponse): void {
    const req = res.req;
    if (req.url !== undefined && req.url.startsWith('/webhook/')) webhook(req, res);
    else {
      // The admin routes never read a body: one still on its way is drained (bounded) after the answer.
      if (bodyUnread(req)) res.setHeader('connection', 'close');
      admin(req, res);
    }
  }

  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as HttpSocket;
    const conn = conns.get(socket);
    if (conn) {
      conn.outstanding++;
      conn.last = req;
      idle.delete(socket);
    }
    // Every socket gets its state on 'connection' (one refused at capacity is destroyed before any request).
    conn?.answering.push(res);
    res.on('prefinish', onPrefinish);
    res.on('close', onClose);
    if (draining()) res.setHeader('connection', 'close');
    if (conn && conn.outstanding > options.maxPipelinedRequests) {
      // Requests waiting for their turn are not answers being produced: they do not count towards the refusal.
      if (conn.outstanding - (conn.deferred?.length ?? 0) > 2 * options.maxPipelinedRequests) {
        metrics.backpressure.inc({ action: 'refused' });
        const body = JSON.stringify({ status: 'error', error: 'too many pipelined requests unanswered on this connection' });
        res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': '5', connection: 'close' });
        res.end(body);
        return;
      }
      if (!conn.pipelined) {
        // Undone in onClose once answers catch up.
        conn.pipelined = true;
        stopReading(socket);
        metrics.backpressure.inc({ action: 'paused' });
      }
    }
    if (!conn) route(res);
    else if (!turns.admit(socket, conn, route, res)) metrics.backpressure.inc({ action: 'throttled' });
  };

  // Host is not used for routing; without this option node answers a Host-less request with an empty, non-JSON 400.
  const server = createServer({ requireHostHeader: false, connectionsCheckingInterval: options.connectionsCheckIntervalMs }, dispatch);
  // With a listener node sends no automatic 100 Continue: the webhook handler sends it once the header checks passed.
  server.on('checkContinue', dispatch);
  // Hostile clients must not hold sockets forever; senders are machines that finish quickly.
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    metrics.connectionsOpen.set(sockets.size);
    socket.once('close', () => {
      sockets.delete(socket);
      turns.forget(socket, conns.get(socket));
      idle.delete(socket);
      metrics.connectionsOpen.set(sockets.size);
    });
    if (sockets.size > options.maxConnections) {
      const oldest = idle.values().next();
      if (oldest.done === true) {
        metrics.connectionsRefused.inc({ reason: 'at_capacity' });
        refusals.warn('at_capacity', { reason: 'at_capacity', max_connections: options.maxConnections }, 'connection refused: MAX_CONNECTIONS reached and every connection has a request in progress');
        socket.destroy();
        return;
      }
      idle.delete(oldest.value);
      oldest.value.destroy();
      metrics.connectionsRefused.inc({ reason: 'evicted_idle' });
      refusals.warn('evicted_idle', { reason: 'evicted_idle', max_connections: options.maxConnections }, 'MAX_CONNECTIONS reached: closed the oldest connection without a request in progress to make room');
    }
    const conn: Conn = { outstanding: 0, pipelined: false, throttled: false, turnRequests: 0, deferred: undefined, resumeScheduled: false, deferredError: undefined, errored: false, last: undefined, answering: [] };
    conns.set(socket, conn);
    // node resumes a socket it paused itself when its answers drain (socketOnDrain), whatever else
    // holds it; a socket held by us stops again before the next poll phase reads from it.
    socket.on('resume', () => {
      if (conn.pipelined || conn.throttled) stopReading(socket as HttpSocket);
    });
    idle.add(socket);
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, conns.get(socket as Socket)));

  return {
    server,
    beginDrain(): void {
      const close = (res: ServerResponse): void => {
        if (!res.headersSent) res.setHeader('connection', 'close');
      };
      for (const socket of sockets) conns.get(socket)?.answering.forEach(close);
    },
    close(): void {
      refusals.close();
      pressure.close();
    },
  };
}


/**
 * Requests node's parser refuses (oversized headers, broken framing) still get
 * a JSON answer, like every other error, and the socket is closed. When valid
 * requests before the broken one on the same connection are still being
 * answered, the error answer waits for them: it must not be read as theirs.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, conn: Conn | undefined): void {
  if (conn?.errored) return;
  if (conn) conn.errored = true;
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({ status: 'error', error: status === 431 ? 'request headers too large' : status === 408 ? 'request timed out' : 'malformed HTTP request' });
  const answer = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  if (conn && answersPending(conn) > 0) {
    conn.deferredError = answer;
    socket.pause();
    return;
  }
  socket.end(answer);
}
