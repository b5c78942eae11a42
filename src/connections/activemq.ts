/**
 * `activemq`: one STOMP connection per connection config (CWM's fields: host,
 * port 61613, user/password; CWM's docs also write `username`). A send is
 * acknowledged when the broker answers the SEND's RECEIPT; SENDs carry
 * `persistent:true`, so ActiveMQ has written the message to its store
 * (KahaDB) before that RECEIPT. A connection lost before the RECEIPT fails
 * the send (the sender retries; the message may then arrive twice, which
 * `cwm-delivery-id` lets consumers drop). Reconnects follow backoff.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import type * as StompJs from '@stomp/stompjs';
import type { Client, IFrame } from '@stomp/stompjs';
import type * as TcpWrapper from '@stomp/tcp-wrapper';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { RECONNECT_INITIAL_MS, RECONNECT_MAX_MS } from './backoff.js';
import { lazyModule } from './lazy-module.js';
import { defineConnectionType } from './types.js';

const stompjs = lazyModule<typeof StompJs>('@stomp/stompjs');
const tcpWrapper = lazyModule<typeof TcpWrapper>('@stomp/tcp-wrapper');

export const activemqConnectionSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: 'localhost' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 61613, description: 'the STOMP port' }),
    user: Type.Optional(Type.String()),
    username: Type.Optional(Type.String({ description: "CWM's docs' name for user" })),
    password: Type.Optional(Type.String()),
    use_ssl: Type.Optional(Type.Literal(false, { description: 'STOMP over TLS is not supported yet' })),
  },
  { additionalProperties: false },
);

export type ActivemqConnectionConfig = Static<typeof activemqConnectionSchema>;

export interface StompMessage {
  readonly destination: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface StompSender {
  /** Resolves on the broker's RECEIPT for this persistent SEND. */
  send(message: StompMessage, signal: AbortSignal): Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

class StompjsSender implements StompSender {
  private readonly client: Client;
  private readonly pending = new Map<string, Waiter>();
  private seq = 0;
  /** Set once the first connect attempt settled: from then on, not connected means known down. */
  private settled = false;
  private firstAttempt: Promise<void>;
  private up: boolean | undefined;

  constructor(config: ActivemqConnectionConfig, timeoutMs: number, private readonly logger: Logger) {
    const { Client: StompClient, ReconnectionTimeMode } = stompjs();
    const { TCPWrapper } = tcpWrapper();
    const login = config.user ?? config.username;
    // CWM connects with credentials only when both are non-empty.
    const connectHeaders: Record<string, string> = { host: config.host };
    if (login && config.password) Object.assign(connectHeaders, { login, passcode: config.password });
    let settle: () => void = () => undefined;
    this.firstAttempt = new Promise<void>((resolve) => (settle = resolve));
    const settleFirst = (): void => {
      this.settled = true;
      settle();
    };
    this.client = new StompClient({
      webSocketFactory: () => new TCPWrapper(config.host, config.port),
      connectHeaders,
      connectionTimeout: timeoutMs,
      reconnectDelay: RECONNECT_INITIAL_MS,
      reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
      maxReconnectDelay: RECONNECT_MAX_MS,
      debug: () => undefined,
      onConnect: () => {
        settleFirst();
        if (this.up !== true) logger.info('activemq connected');
        this.up = true;
      },
      onStompError: (frame: IFrame) => this.onError(frame),
      onWebSocketClose: () => {
        settleFirst();
        if (this.up !== false) logger.warn('activemq unreachable; webhooks using it answer 503 until it is back');
        this.up = false;
        this.failAll('activemq connection lost before the RECEIPT; not acknowledged');
      },
    });
    this.client.activate();
  }

  /** True when a SEND can go out now; false at once when known down; a fresh client waits for its first attempt. */
  async ready(): Promise<boolean> {
    if (this.client.connected) return true;
    if (this.settled) return false;
    await this.firstAttempt;
    return this.client.connected;
  }

  private onError(frame: IFrame): void {
    // The broker's reason, without the frame body (it may echo message content).
    const reason = frame.headers.message ?? 'ERROR frame';
    const receipt = frame.headers['receipt-id'];
    const waiter = receipt === undefined ? undefined : this.pending.get(receipt);
    if (waiter && receipt !== undefined) {
      this.pending.delete(receipt);
      waiter.reject(new UnavailableError(`activemq refused the SEND: ${reason}`));
    } else this.logger.warn({ reason }, 'activemq sent an ERROR frame');
  }

  private failAll(reason: string): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiters) w.reject(new UnavailableError(reason));
  }

  send(message: StompMessage, signal: AbortSignal): Promise<void> {
    if (!this.client.connected) return Promise.reject(new UnavailableError('activemq is not connected'));
    const receipt = `cwm-${++this.seq}`;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(receipt);
        reject(new UnavailableError('activemq RECEIPT did not arrive within OUTPUT_TIMEOUT_MS'));
      };
      const done = (fn: () => void): void => {
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      this.pending.set(receipt, { resolve: () => done(resolve), reject: (err) => done(() => reject(err)) });
      signal.addEventListener('abort', onAbort, { once: true });
      this.client.watchForReceipt(receipt, () => {
        const waiter = this.pending.get(receipt);
        this.pending.delete(receipt);
        waiter?.resolve();
      });
      try {
        this.client.publish({ destination: message.destination, headers: { ...message.headers, persistent: 'true', receipt }, binaryBody: message.body });
      } catch (err) {
        this.pending.delete(receipt);
        done(() => reject(new UnavailableError(`activemq SEND failed: ${(err as Error).message}`)));
      }
    });
  }

  async close(): Promise<void> {
    this.failAll('activemq connection closed');
    await this.client.deactivate();
  }
}

export const activemqConnection = defineConnectionType({
  type: 'activemq',
  schema: activemqConnectionSchema,
  create(config, ctx) {
    const sender = new StompjsSender(config, ctx.timeoutMs, ctx.logger);
    return { client: sender as StompSender, ready: () => sender.ready(), close: () => sender.close() };
  },
});
