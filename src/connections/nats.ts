/**
 * The one file that knows the NATS client (@nats-io/transport-node +
 * @nats-io/jetstream; CWM has no NATS output). One NATS connection per
 * connection config; outputs publish through JetStream, whose PubAck means
 * the stream stored the message.
 *
 * Fail fast: nats.js would hold publishes made while disconnected in its
 * buffer; cwm refuses them (ready() false at once) between the 'disconnect'
 * and 'reconnect' status events. Reconnect delays come from
 * src/connections/backoff.ts, for the first connect (which nats.js does not
 * retry) and, through reconnectDelayHandler, for nats.js's own reconnects.
 */
import { Type, type Static } from '@sinclair/typebox';
import type * as JetStreamModule from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream';
import type * as NatsNode from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { reconnectDelayMs } from './backoff.js';
import { lazyModule } from './lazy-module.js';
import { defineConnectionType } from './types.js';

const natsNode = lazyModule<typeof NatsNode>('@nats-io/transport-node');
const jetstreamModule = lazyModule<typeof JetStreamModule>('@nats-io/jetstream');

export const natsConnectionSchema = Type.Object(
  {
    servers: Type.Optional(Type.String({ pattern: '^[^,\\s]+(,[^,\\s]+)*$', description: 'host:port[,host:port...] (or nats:// URLs); wins over host/port' })),
    host: Type.String({ minLength: 1, default: 'localhost' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 4222 }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    token: Type.Optional(Type.String()),
    tls: Type.Boolean({ default: false, description: 'require TLS' }),
    name: Type.String({ minLength: 1, default: 'cwm', description: 'client name the server shows' }),
  },
  { additionalProperties: false },
);

export type NatsConnectionConfig = Static<typeof natsConnectionSchema>;

export class NatsUnavailableError extends Error {}

export interface NatsStreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
}

export class NatsPublisher {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private up = false;
  private closed = false;
  private attempt = 0;
  private firstAttempt: Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  private readonly streams = new Map<string, Promise<void>>();

  constructor(private readonly config: NatsConnectionConfig, private readonly logger: Logger, private readonly timeoutMs: number) {
    this.firstAttempt = this.connect();
  }

  private async connect(): Promise<void> {
    const c = this.config;
    try {
      const nc = await natsNode().connect({
        servers: c.servers ? c.servers.split(',') : `${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`,
        name: c.name,
        ...(c.username !== undefined ? { user: c.username } : {}),
        ...(c.password !== undefined ? { pass: c.password } : {}),
        ...(c.token !== undefined ? { token: c.token } : {}),
        ...(c.tls ? { tls: {} } : {}),
        timeout: this.timeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectDelayHandler: () => reconnectDelayMs(++this.attempt),
      });
      if (this.closed) {
        await nc.close().catch(() => undefined);
        return;
      }
      this.nc = nc;
      this.js = jetstreamModule().jetstream(nc, { timeout: this.timeoutMs });
      this.up = true;
      this.attempt = 0;
      this.logger.info('nats connected');
      void this.watch(nc);
    } catch (err) {
      if (this.closed) return;
      if (this.attempt === 0) this.logger.warn({ reason: (err as Error).message }, 'nats unreachable; webhooks using it answer 503 until it is back');
      this.timer = setTimeout(() => void this.connect(), reconnectDelayMs(++this.attempt));
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        if (this.up) this.logger.warn('nats connection lost; webhooks using it answer 503 until it is back');
        this.up = false;
      } else if (s.type === 'reconnect') {
        this.up = true;
        this.attempt = 0;
        this.logger.info('nats reconnected');
      }
    }
  }

  /** True when connected; false at once while known down; a fresh client waits for its first attempt. */
  async ready(): Promise<boolean> {
    if (this.up) return true;
    if (this.nc === undefined && this.attempt === 0) await this.firstAttempt;
    return this.up;
  }

  /** Creates the stream once per connection if it does not exist (an existing one is left as it is). */
  ensureStream(spec: NatsStreamSpec): Promise<void> {
    let done = this.streams.get(spec.name);
    if (!done) {
      done = (async () => {
        const nc = this.nc;
        if (!nc) throw new NatsUnavailableError('nats is not connected');
        const jsm: JetStreamManager = await jetstreamModule().jetstreamManager(nc, { timeout: this.timeoutMs });
        try {
          await jsm.streams.info(spec.name);
        } catch {
          await jsm.streams.add({ name: spec.name, subjects: [...spec.subjects] });
        }
      })();
      this.streams.set(spec.name, done);
      const mine = done;
      done.catch(() => this.streams.get(spec.name) === mine && this.streams.delete(spec.name));
    }
    return done;
  }

  /** Resolves once JetStream acknowledged (stored) the message; `msgId` feeds the stream's duplicate window. */
  async publish(subject: string, body: Buffer, msgId: string, expectStream: string | undefined): Promise<PubAck> {
    const js = this.js;
    if (this.closed || !this.up || !js) throw new NatsUnavailableError('nats is not connected');
    return js.publish(subject, body, { msgID: msgId, timeout: this.timeoutMs, ...(expectStream !== undefined ? { expect: { streamName: expectStream } } : {}) });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    clearTimeout(this.timer);
    await this.nc?.drain().catch(() => this.nc?.close());
  }
}

/** `nats`: one NATS connection per connection config, publishing through JetStream. */
export const natsConnection = defineConnectionType({
  type: 'nats',
  schema: natsConnectionSchema,
  create(config, ctx) {
    const publisher = new NatsPublisher(config, ctx.logger, ctx.timeoutMs);
    return { client: publisher, ready: () => publisher.ready(), close: () => publisher.close() };
  },
});
