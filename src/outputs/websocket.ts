/**
 * `websocket`: one connection per bound webhook, opened on first send and
 * kept; a delivery is acknowledged once its frame was written to the open
 * connection (ws `send` callback), or, with `wait_for_response`, once the
 * server sent a message back (replies are matched to sends in order). While
 * the connection is down sends fail at once (503) and it reconnects with the
 * one backoff policy; the handshake connects through the outbound guard.
 */
import { Type } from '@sinclair/typebox';
import type { WebSocket } from 'ws';
import type * as Ws from 'ws';
import { lazyModule } from '../connections/lazy-module.js';
import { reconnectDelayMs } from '../connections/backoff.js';
import { checkTargetHost, guardedLookup, hostOf, type OutboundPolicy } from '../connections/outbound-guard.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError, UnavailableError } from '../errors.js';
import { stringEnum } from '../schema-kit.js';
import { jsonSafePayload } from './envelope.js';
import { policyOf } from './http-webhook.js';
import { defineOutput } from './types.js';

/** ws is loaded with the first connection: processes without websocket outputs never load it. */
const wsModule = lazyModule<typeof Ws>('ws');

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  /** Timed out: its reply, when it comes, is dropped, so later replies still pair with their sends. */
  abandoned: boolean;
}

interface Options {
  readonly url: string;
  readonly policy: OutboundPolicy;
  readonly headers: Readonly<Record<string, string>>;
  readonly handshakeMs: number;
  readonly waitForResponse: boolean;
  readonly onState: (up: boolean) => void;
}

/** The one connection of a bound webhook: open, reconnecting or closed for good. */
class Link {
  private socket: WebSocket | undefined;
  private opened: Promise<WebSocket> | undefined;
  /** Set once the first connect ended; from then on a missing connection fails sends at once. */
  private started = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly o: Options) {}

  /** The open socket; waits only for the very first connect, fails at once while reconnecting. */
  async open(signal: AbortSignal): Promise<WebSocket> {
    if (this.closed) throw new UnavailableError('websocket output is closed');
    const s = this.socket;
    if (s?.readyState === wsModule().WebSocket.OPEN) return s;
    if (this.started) throw new UnavailableError('websocket target is not connected (reconnecting)');
    this.opened ??= this.connect();
    return abortable(this.opened, signal);
  }

  private connect(): Promise<WebSocket> {
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new (wsModule().WebSocket)(this.o.url, { headers: this.o.headers, handshakeTimeout: this.o.handshakeMs, lookup: guardedLookup(this.o.policy), followRedirects: false, perMessageDeflate: false });
      this.socket = ws;
      let settled = false;
      ws.on('open', () => {
        settled = true;
        this.started = true;
        this.attempt = 0;
        this.o.onState(true);
        resolve(ws);
      });
      ws.on('message', () => this.reply());
      ws.on('error', () => undefined); // 'close' follows and carries the state change
      ws.on('close', () => {
        if (this.socket === ws) this.socket = undefined;
        this.failWaiters();
        const wasUp = settled;
        if (!settled) {
          settled = true;
          reject(new UnavailableError('websocket target could not be reached'));
        }
        this.started = true;
        this.opened = undefined;
        if (wasUp) this.o.onState(false);
        this.scheduleReconnect();
      });
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.opened = this.connect();
      this.opened.catch(() => undefined);
    }, reconnectDelayMs(++this.attempt));
    this.timer.unref();
  }

  /** Resolves once `data` was written to the socket (and, with wait_for_response, once the reply came). */
  async send(data: string | Buffer, binary: boolean, signal: AbortSignal): Promise<void> {
    const ws = await this.open(signal);
    let waiter: Waiter | undefined;
    const replied = this.o.waitForResponse
      ? new Promise<void>((resolve, reject) => {
          waiter = { resolve, reject, abandoned: false };
          this.waiters.push(waiter);
        })
      : undefined;
    await new Promise<void>((resolve, reject) => {
      ws.send(data, { binary }, (err) => (err ? reject(new UnavailableError('websocket frame could not be written')) : resolve()));
    }).catch((err: unknown) => {
      if (waiter) waiter.abandoned = true;
      throw err;
    });
    if (!replied || !waiter) return;
    const w = waiter;
    try {
      await abortable(replied, signal);
    } catch (err) {
      if (signal.aborted) {
        // A reply that never came would pair every later reply with the wrong send: start over.
        w.abandoned = true;
        ws.terminate();
      }
      throw err;
    }
  }

  private reply(): void {
    const w = this.waiters.shift();
    if (w && !w.abandoned) w.resolve();
  }

  private failWaiters(): void {
    for (const w of this.waiters.splice(0)) if (!w.abandoned) w.reject(new UnavailableError('websocket connection closed before the reply'));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close(1001);
    this.socket?.terminate();
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new UnavailableError('websocket send timed out'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new UnavailableError('websocket send timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError('/module-config/url', 'is not a valid URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ConfigError('/module-config/url', 'must be a ws:// or wss:// URL');
  if (url.username || url.password) throw new ConfigError('/module-config/url', 'must not carry credentials (use module-config.headers)');
  return url;
}

export const websocketOutput = defineOutput({
  name: 'websocket',
  schema: Type.Object(
    {
      url: Type.String({ minLength: 1, maxLength: 8192, description: 'ws:// or wss:// target' }),
      format: stringEnum(['json', 'raw'], { default: 'json', description: 'json: {"payload", "headers"?}; raw: the body as received' }),
      include_headers: Type.Boolean({ default: false }),
      timeout: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'seconds for the handshake and for a reply; OUTPUT_TIMEOUT_MS bounds it too' }),
      max_retries: Type.Integer({ minimum: 0, default: 3, description: 'accepted for CWM configs; reconnects follow the one backoff policy' }),
      headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'added to the handshake request' }),
      wait_for_response: Type.Boolean({ default: false, description: 'acknowledge once the server sent a message back' }),
      allowed_hosts: Type.Optional(Type.Array(Type.String(), { description: 'when non-empty, the url host must be one of these (never an exemption from the outbound guard)' })),
    },
    { additionalProperties: false },
  ),
  bind(cfg, _spec, ctx) {
    const url = parseTarget(cfg.url);
    const policy = policyOf(ctx.settings);
    checkTargetHost(hostOf(url), policy, cfg.allowed_hosts, '/module-config/url');
    const log = ctx.logger.child({ output: 'websocket' });
    const link = new Link({
      url: url.href,
      policy,
      headers: cfg.headers,
      handshakeMs: Math.min(cfg.timeout * 1000, ctx.settings.outputTimeoutMs),
      waitForResponse: cfg.wait_for_response,
      onState: (up) => (up ? log.info('websocket target connected') : log.warn('websocket target disconnected; failing sends fast while reconnecting')),
    });
    const replyMs = cfg.timeout * 1000;
    return {
      async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
        const limit = AbortSignal.any([signal, AbortSignal.timeout(replyMs)]);
        if (cfg.format === 'raw') return link.send(delivery.rawBody, Buffer.isBuffer(delivery.payload), limit);
        const message: Record<string, unknown> = { payload: jsonSafePayload(delivery) };
        if (cfg.include_headers) message.headers = delivery.headers;
        return link.send(JSON.stringify(message), false, limit);
      },
      async close(): Promise<void> {
        link.close();
      },
    };
  },
});
