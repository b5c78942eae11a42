/**
 * A real HTTP server the test owns, standing in for a webhook target: it
 * records each request (after reading the whole body) before answering, and
 * can be stopped and started again on the same port mid-traffic.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpTarget {
  readonly port: number;
  readonly received: Received[];
  /** Answer for a path; 200 by default. A delay holds the answer that long. */
  respond(path: string, status: number, delayMs?: number): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startHttpTarget(): Promise<HttpTarget> {
  const received: Received[] = [];
  const answers = new Map<string, { status: number; delayMs: number }>();
  let server: Server | undefined;
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const path = req.url ?? '/';
          const answer = answers.get(path) ?? { status: 200, delayMs: 0 };
          const reply = (): void => {
            if (answer.status >= 200 && answer.status < 300) received.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks) });
            res.writeHead(answer.status, { 'content-type': 'text/plain' }).end('ok');
          };
          if (answer.delayMs > 0) setTimeout(reply, answer.delayMs);
          else reply();
        });
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    received,
    respond(path, status, delayMs = 0) {
      answers.set(path, { status, delayMs });
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    },
    start: listen,
  };
}
