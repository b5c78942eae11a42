/**
 * The one file that knows mqtt.js. One MQTT client per connection config.
 *
 * Nothing is buffered while disconnected: a publish needs a live connection
 * (503 at once otherwise), mqtt.js's own reconnect is off and cwm reconnects
 * on src/connections/backoff.ts, each time with an empty outgoing store, so
 * what was in flight at a disconnect is failed (the sender retries) instead
 * of piling up in memory. QoS 1 resolves on PUBACK, QoS 2 on PUBCOMP; QoS 0
 * (only when configured) resolves once written to the socket:
 * fire-and-forget, the broker never acknowledges it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import type * as Mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { stringEnum } from '../schema-kit.js';
import { reconnectDelayMs } from './backoff.js';
import { lazyModule } from './lazy-module.js';
import { defineConnectionType } from './types.js';

const mqtt = lazyModule<typeof Mqtt>('mqtt');

export const mqttConnectionSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: 'localhost' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 1883 }),
    username: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: "'' or null: no user name" })),
    user: Type.Optional(Type.String({ description: 'what CWM\'s docker example writes (CWM ignores it); cwm uses it when username is absent' })),
    password: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    client_id: Type.String({ minLength: 1, maxLength: 200, default: 'webhook-module' }),
    unique_client_id: Type.Boolean({ default: true, description: 'append -<random> to client_id so replicas do not take over each other\'s session' }),
    keepalive: Type.Integer({ minimum: 0, maximum: 65535, default: 60 }),
    mqtt_version: stringEnum(['3.1', '3.1.1', '5', '5.0'] as const, { default: '3.1.1' }),
    tls: Type.Boolean({ default: false }),
    tls_insecure: Type.Boolean({ default: false, description: 'skip verifying the broker certificate' }),
    tls_ca_cert_file: Type.Optional(Type.String()),
    tls_cert_file: Type.Optional(Type.String()),
    tls_key_file: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export type MqttConnectionConfig = Static<typeof mqttConnectionSchema>;

export type Qos = 0 | 1 | 2;

export class MqttUnavailableError extends Error {}

/**
 * Publishes awaiting an acknowledgement, at most: a broker that stalls while
 * the TCP connection stays up (noticed only after 1.5 × keepalive) would
 * otherwise collect every sender retry in mqtt.js's outgoing store.
 */
export const MAX_IN_FLIGHT = 10_000;

const PROTOCOL: ReadonlyMap<string, 3 | 4 | 5> = new Map([['3.1', 3], ['3.1.1', 4], ['5', 5], ['5.0', 5]]);

/** '' in CWM's examples (and `{$VAR:}` placeholders) means "not set". */
const given = (v: string | null | undefined): v is string => typeof v === 'string' && v !== '';

/**
 * An unreadable file is logged and left out rather than thrown (create() must
 * not throw): without the CA the broker's certificate fails verification,
 * without the client certificate the broker refuses us. Both fail closed: 503.
 */
function readPem(path: string | undefined, field: string, logger: Logger): Buffer | undefined {
  if (!given(path)) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    logger.error({ field, reason: (err as NodeJS.ErrnoException).code ?? 'error' }, 'mqtt TLS file cannot be read; connecting without it');
    return undefined;
  }
}

function clientOptions(c: MqttConnectionConfig, timeoutMs: number, logger: Logger): IClientOptions {
  const username = given(c.username) ? c.username : given(c.user) ? c.user : undefined;
  const options: IClientOptions = {
    host: c.host,
    port: c.port,
    protocol: c.tls ? 'mqtts' : 'mqtt',
    protocolVersion: PROTOCOL.get(c.mqtt_version) ?? 4,
    clientId: c.unique_client_id ? `${c.client_id}-${randomBytes(4).toString('hex')}` : c.client_id,
    keepalive: c.keepalive,
    clean: true,
    connectTimeout: timeoutMs,
    reconnectPeriod: 0, // cwm reconnects itself, on the shared backoff
    queueQoSZero: false,
    resubscribe: false,
  };
  if (username !== undefined) options.username = username;
  if (given(c.password)) options.password = c.password;
  if (c.tls) {
    options.rejectUnauthorized = !c.tls_insecure;
    const ca = readPem(c.tls_ca_cert_file, 'tls_ca_cert_file', logger);
    const cert = readPem(c.tls_cert_file, 'tls_cert_file', logger);
    const key = readPem(c.tls_key_file, 'tls_key_file', logger);
    if (ca) options.ca = ca;
    if (cert) options.cert = cert;
    if (key) options.key = key;
  }
  return options;
}

export class MqttPublisher {
  private readonly client: MqttClient;
  private attempt = 0;
  private everConnected = false;
  private firstAttempt: Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Our callers waiting for an acknowledgement, failed together when the connection drops. */
  private readonly pending = new Set<(err: Error) => void>();

  constructor(config: MqttConnectionConfig, private readonly logger: Logger, timeoutMs: number) {
    this.client = mqtt().connect(clientOptions(config, timeoutMs, logger));
    this.firstAttempt = new Promise<void>((resolve) => {
      this.client.once('connect', () => resolve());
      this.client.once('close', () => resolve());
    });
    this.client.on('connect', () => {
      this.attempt = 0;
      this.everConnected = true;
      logger.info('mqtt connected');
    });
    // Without a listener an 'error' event would throw; 'close' follows.
    this.client.on('error', (err: Error) => logger.debug({ reason: err.message }, 'mqtt client error'));
    this.client.on('close', () => this.lost());
  }

  private lost(): void {
    const err = new MqttUnavailableError('mqtt connection lost before the broker acknowledged');
    for (const fail of this.pending) fail(err);
    this.pending.clear();
    if (this.closed) return;
    if (this.attempt === 0) this.logger.warn('mqtt broker unreachable; webhooks using it answer 503 until it is back');
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // A fresh outgoing store: nothing from before the drop is resent behind the callers' backs.
      if (!this.closed) this.client.reconnect({ outgoingStore: new (mqtt().Store)() });
    }, reconnectDelayMs(this.attempt));
  }

  /** True when connected; false at once when known down; a fresh client waits for its first attempt. */
  async ready(): Promise<boolean> {
    if (this.client.connected) return true;
    if (!this.everConnected && this.attempt === 0) await this.firstAttempt;
    return this.client.connected;
  }

  /** QoS 1: resolves on PUBACK; QoS 2: on PUBCOMP; QoS 0: once written (no acknowledgement exists). */
  publish(topic: string, body: Buffer, qos: Qos, retain: boolean): Promise<void> {
    // Checked here, not only in ready(): mqtt.js would otherwise queue the packet offline.
    if (this.closed || !this.client.connected) return Promise.reject(new MqttUnavailableError('mqtt is not connected'));
    if (this.pending.size >= MAX_IN_FLIGHT) return Promise.reject(new MqttUnavailableError(`mqtt: ${MAX_IN_FLIGHT} publishes already wait for the broker`));
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const fail = (err: Error): void => {
        if (done) return;
        done = true;
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      this.client.publish(topic, body, { qos, retain }, (err) => {
        if (done) return;
        done = true;
        this.pending.delete(fail);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    // Forced: work in flight has drained (ClientLifecycle) or is failed below; a graceful end would wait on a broker that may never answer.
    for (const fail of this.pending) fail(new MqttUnavailableError('mqtt client closed'));
    this.pending.clear();
    await this.client.endAsync(true).catch(() => undefined);
  }
}

/** `mqtt`: one mqtt.js client per connection config (CWM's fields). */
export const mqttConnection = defineConnectionType({
  type: 'mqtt',
  schema: mqttConnectionSchema,
  create(config, ctx) {
    const publisher = new MqttPublisher(config, ctx.logger, ctx.timeoutMs);
    return { client: publisher, ready: () => publisher.ready(), close: () => publisher.close() };
  },
});
