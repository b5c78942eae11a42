/**
 * The one file that knows amqplib. One AMQP connection and one confirm
 * channel per connection config, shared by every webhook using it.
 *
 * A publish resolves only when the broker's publisher confirm (basic.ack)
 * arrived; it is sent `mandatory`, so a message no queue took comes back as
 * basic.return and its publish is rejected instead of silently dropped.
 * Declarations (durable queue, exchange, binding) run once per name on a
 * separate short-lived channel: a refused declaration (406 PRECONDITION_FAILED)
 * closes only that channel, not the one every webhook publishes on.
 *
 * While the connection is down, ready() is false at once (503 fast) and
 * reconnects follow src/connections/backoff.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import type * as Amqplib from 'amqplib';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import type { Logger } from 'pino';
import { reconnectDelayMs } from './backoff.js';
import { lazyModule } from './lazy-module.js';
import { defineConnectionType } from './types.js';

const amqplib = lazyModule<typeof Amqplib>('amqplib');

export const rabbitmqConnectionSchema = Type.Object(
  {
    url: Type.Optional(Type.String({ pattern: '^amqps?://', description: 'amqp[s]://user:pass@host:port/vhost; wins over the separate fields' })),
    host: Type.String({ minLength: 1, default: 'localhost' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 5672 }),
    user: Type.String({ default: 'guest', description: "CWM's name for the user name" }),
    pass: Type.String({ default: 'guest', description: "CWM's name for the password" }),
    vhost: Type.String({ default: '/', description: 'CWM documents it but always uses "/"; cwm uses it' }),
    heartbeat: Type.Integer({ minimum: 0, maximum: 600, default: 10, description: 'seconds; 0 turns heartbeats off' }),
    tls: Type.Boolean({ default: false, description: 'amqps (TLS) instead of amqp' }),
  },
  { additionalProperties: false },
);

export type RabbitmqConnectionConfig = Static<typeof rabbitmqConnectionSchema>;

export const exchangeTypes = ['direct', 'topic', 'fanout', 'headers'] as const;

export interface RabbitPublish {
  /** '' is the default exchange (routes by queue name). */
  readonly exchange: string;
  readonly exchangeType: (typeof exchangeTypes)[number];
  readonly routingKey: string;
  /** Declared durable (and bound to a named exchange with the routing key) before the first publish. */
  readonly queue: string | undefined;
  readonly body: Buffer;
  readonly messageId: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
}

export class RabbitUnavailableError extends Error {}

/** Publishes awaiting a confirm, at most: a broker that stops confirming but keeps the connection would otherwise collect every retry. */
export const MAX_IN_FLIGHT = 10_000;

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  returned: boolean;
}

/** Where the client is: connecting (first or later attempt), up, or known down between attempts. */
type State = 'connecting' | 'up' | 'down' | 'closed';

export class RabbitClient {
  private state: State = 'connecting';
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Resolves when the attempt in progress ends (either way). */
  private attemptDone: Promise<void> = Promise.resolve();
  /** Declarations done on the current connection, by key; cleared on reconnect (the broker may have lost non-durable state). */
  private declared = new Map<string, Promise<void>>();
  /** Publishes awaiting their confirm, by message id (for basic.return). */
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private wasUp = false;
  /** The broker blocked publishing (memory or disk alarm): publishes would wait, so answer 503 instead. */
  private blocked = false;

  constructor(private readonly config: RabbitmqConnectionConfig, private readonly logger: Logger, private readonly timeoutMs: number) {
    this.connect();
  }

  private url(): string {
    if (this.config.url) return this.config.url;
    const c = this.config;
    const auth = `${encodeURIComponent(c.user)}:${encodeURIComponent(c.pass)}`;
    return `${c.tls ? 'amqps' : 'amqp'}://${auth}@${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}/${encodeURIComponent(c.vhost)}?heartbeat=${c.heartbeat}`;
  }

  private connect(): void {
    this.state = 'connecting';
    this.attemptDone = this.open().then(
      () => {
        this.attempt = 0;
        this.state = 'up';
        this.wasUp = true;
        this.logger.info('rabbitmq connected');
      },
      (err: unknown) => {
        if (this.state === 'closed') return;
        // One line per outage, not per attempt.
        if (this.attempt === 0) this.logger.warn({ reason: (err as Error).message }, 'rabbitmq unreachable; webhooks using it answer 503 until it is back');
        this.goDown();
      },
    );
  }

  private async open(): Promise<void> {
    const model = await amqplib().connect(this.url(), { timeout: this.timeoutMs });
    if (this.state === 'closed') {
      await model.close().catch(() => undefined);
      return;
    }
    this.model = model;
    // Without a listener an 'error' event would throw; 'close' follows it.
    model.on('error', (err: Error) => this.logger.debug({ reason: err.message }, 'rabbitmq connection error'));
    model.on('close', () => this.lost(model, 'connection closed'));
    model.on('blocked', (reason: string) => {
      this.blocked = true;
      this.logger.warn({ reason }, 'rabbitmq blocked publishing; webhooks using it answer 503 until it unblocks');
    });
    model.on('unblocked', () => {
      this.blocked = false;
      this.logger.info('rabbitmq unblocked publishing');
    });
    const channel = await model.createConfirmChannel();
    this.channel = channel;
    channel.on('error', (err: Error) => this.logger.warn({ reason: err.message }, 'rabbitmq channel error'));
    channel.on('close', () => this.lost(model, 'channel closed'));
    channel.on('return', (msg: Message) => {
      const id: unknown = msg.properties.messageId;
      const p = typeof id === 'string' ? this.pending.get(id) : undefined;
      if (p) p.returned = true;
    });
  }

  /** The connection or its channel went away: everything unconfirmed fails (the sender retries), then reconnect. */
  private lost(model: ChannelModel, why: string): void {
    if (this.model !== model || this.state === 'closed') return;
    this.model = undefined;
    this.channel = undefined;
    this.blocked = false;
    model.close().catch(() => undefined);
    const err = new RabbitUnavailableError(`rabbitmq ${why} before the publish was confirmed`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.wasUp) this.logger.warn({ reason: why }, 'rabbitmq connection lost; webhooks using it answer 503 until it is back');
    this.wasUp = false;
    this.goDown();
  }

  private goDown(): void {
    if (this.state === 'closed') return;
    this.state = 'down';
    this.declared = new Map();
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), reconnectDelayMs(this.attempt));
  }

  /** A method, not an inline comparison: the state changes while ready() awaits. */
  private isUp(): boolean {
    return this.state === 'up' && !this.blocked;
  }

  /** True when publishing is possible now; false at once when known down; waits for a connect attempt in progress. */
  async ready(): Promise<boolean> {
    if (this.state === 'up') return !this.blocked;
    // Only a fresh client's first attempt is waited for; a reconnect in progress is still "down".
    if (this.state === 'connecting' && this.attempt === 0 && !this.wasUp) {
      await this.attemptDone;
      return this.isUp();
    }
    return false;
  }

  private declare(model: ChannelModel, p: RabbitPublish): Promise<void> {
    const key = `${p.exchange}\u0000${p.exchangeType}\u0000${p.queue ?? ''}\u0000${p.routingKey}`;
    let done = this.declared.get(key);
    if (!done) {
      const declared = this.declared;
      done = (async () => {
        const ch = await model.createChannel();
        ch.on('error', () => undefined); // a refused declaration closes this channel; the rejection below says why
        try {
          if (p.exchange !== '') await ch.assertExchange(p.exchange, p.exchangeType, { durable: true });
          if (p.queue !== undefined) {
            await ch.assertQueue(p.queue, { durable: true });
            if (p.exchange !== '') await ch.bindQueue(p.queue, p.exchange, p.routingKey);
          }
        } finally {
          await ch.close().catch(() => undefined);
        }
      })();
      declared.set(key, done);
      // A failed declaration is tried again by the next delivery.
      done.catch(() => declared.get(key) === done && declared.delete(key));
    }
    return done;
  }

  /** Resolves once the broker confirmed the persistent message; rejects if it nacked, returned it, or the connection dropped. */
  async publish(p: RabbitPublish): Promise<void> {
    const model = this.model;
    if (this.state !== 'up' || !model) throw new RabbitUnavailableError('rabbitmq is not connected');
    if (this.blocked) throw new RabbitUnavailableError('rabbitmq blocked publishing (resource alarm)');
    if (this.pending.size >= MAX_IN_FLIGHT) throw new RabbitUnavailableError(`rabbitmq: ${MAX_IN_FLIGHT} publishes already wait for confirms`);
    await this.declare(model, p);
    const channel = this.channel;
    if (this.model !== model || !channel) throw new RabbitUnavailableError('rabbitmq connection changed during the publish');
    // The caller's id plus a counter: two in-flight publishes of one delivery id stay apart.
    const tag = `${p.messageId}#${++this.seq}`;
    await new Promise<void>((resolve, reject) => {
      const entry: Pending = { resolve, reject, returned: false };
      this.pending.set(tag, entry);
      const settle = (err: unknown): void => {
        if (this.pending.get(tag) !== entry) return; // already failed by lost()
        this.pending.delete(tag);
        if (err) reject(new RabbitUnavailableError('rabbitmq refused the message (nack)'));
        else if (entry.returned) reject(new Error(`rabbitmq: no queue is bound to exchange "${p.exchange}" with routing key "${p.routingKey}" (message returned)`));
        else resolve();
      };
      try {
        channel.publish(p.exchange, p.routingKey, p.body, {
          persistent: true,
          mandatory: true,
          messageId: tag,
          contentType: p.contentType,
          headers: { ...p.headers },
        }, settle);
      } catch (err) {
        this.pending.delete(tag);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.timer);
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    for (const p of this.pending.values()) p.reject(new RabbitUnavailableError('rabbitmq client closed'));
    this.pending.clear();
    await model?.close().catch(() => undefined);
  }
}

/** `rabbitmq`: one AMQP connection + confirm channel per connection config (CWM's fields host, port, user, pass). */
export const rabbitmqConnection = defineConnectionType({
  type: 'rabbitmq',
  schema: rabbitmqConnectionSchema,
  create(config, ctx) {
    const client = new RabbitClient(config, ctx.logger, ctx.timeoutMs);
    return { client, ready: () => client.ready(), close: () => client.close() };
  },
});
