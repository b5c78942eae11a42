/**
 * The one file that knows kafkajs. Everything else sees `KafkaProducer`, so a
 * move to another client (kafkajs is unmaintained since 2023) stays here.
 *
 * Producer settings follow DESIGN §4: acks=-1 on every send; not idempotent
 * (the librdkafka mock broker cannot serve the idempotent producer); short
 * connect/retry budgets; a circuit breaker so that once the broker is known
 * down, sends fail at once instead of each waiting out its own retries.
 * Records handed over in the same event-loop turn (concurrent webhooks) go
 * out as one produce request; each caller still waits for that request's
 * acknowledgement, so nothing is acknowledged before the broker has it.
 */
import { stringEnum } from '../schema-kit.js';
import { circuitBreaker, ConsecutiveBreaker, handleAll, type CircuitBreakerPolicy } from 'cockatiel';
import type * as KafkaJs from 'kafkajs';
import type { LogEntry, Producer } from 'kafkajs';
import { lazyModule } from './lazy-module.js';
import type { Logger } from 'pino';
import { Type, type Static } from '@sinclair/typebox';
import { defineConnectionType } from './types.js';

const kafkajs = lazyModule<typeof KafkaJs>('kafkajs');

export const kafkaConnectionSchema = Type.Object(
  {
    bootstrap_servers: Type.String({ pattern: '^[^,\\s]+(,[^,\\s]+)*$', description: 'host:port[,host:port...]' }),
    client_id: Type.String({ minLength: 1, default: 'cwm' }),
    ssl: Type.Optional(Type.Union([Type.Boolean(), Type.Object({}, { additionalProperties: true })])),
    sasl: Type.Optional(
      Type.Object(
        {
          mechanism: stringEnum(['plain', 'scram-sha-256', 'scram-sha-512'] as const),
          username: Type.String(),
          password: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type KafkaConnectionConfig = Static<typeof kafkaConnectionSchema>;

export interface KafkaRecord {
  readonly key: string | null;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly partition?: number;
}

export interface KafkaSend {
  readonly topic: string;
  readonly compression: 'gzip' | 'none';
  readonly records: readonly KafkaRecord[];
}

export interface KafkaProducer {
  /** Resolves once every in-sync replica acknowledged (acks=-1). */
  send(batch: KafkaSend): Promise<void>;
  /** Resolves true once connected to the cluster, false if this connect attempt failed. */
  connected(): Promise<boolean>;
  close(): Promise<void>;
}

export interface KafkaClientOptions {
  readonly logger: Logger;
  /** Upper bound for one broker request; sends are bounded by OUTPUT_TIMEOUT_MS anyway. */
  readonly requestTimeoutMs: number;
}

/** Consecutive failed sends that mark the broker down, and how long before one trial send is let through. */
const BREAKER_FAILURES = 3;
const HALF_OPEN_AFTER_MS = 1000;

/** Upper bound of records per produce request. */
const MAX_BATCH_RECORDS = 500;

export class KafkaUnavailableError extends Error {}

interface Batch {
  readonly topic: string;
  readonly compression: KafkaSend['compression'];
  readonly records: KafkaRecord[];
  readonly waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

/**
 * kafkajs writes several error lines per failed request (connection, retry,
 * request), so an outage of a few seconds under load was thousands of lines.
 * This keeps one line per state change: the first kafkajs error after the
 * client was healthy, then silence (counted) until a send succeeds again,
 * when one line says how many were held back.
 */
class KafkaLogSummary {
  private quiet = false;
  private suppressed = 0;

  constructor(private readonly logger: Logger) {}

  creator(): () => (entry: LogEntry) => void {
    return () => (entry) => {
      if (this.quiet) {
        this.suppressed++;
        return;
      }
      const fields = { kafka_namespace: entry.namespace, broker: entry.log.broker, reason: entry.log.error };
      if (entry.level <= kafkajs().logLevel.ERROR) {
        this.logger.error(fields, `kafkajs: ${entry.log.message}; further kafkajs messages are held back until a send succeeds`);
        this.quiet = true;
      } else this.logger.warn(fields, `kafkajs: ${entry.log.message}`);
    };
  }

  /** cwm's own failure line, under the same one-line-per-outage rule. */
  failure(message: string, reason: string): void {
    if (this.quiet) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ reason }, `${message}; further kafka errors are held back until a send succeeds`);
    this.quiet = true;
  }

  /** A send succeeded: the client is healthy again. */
  healthy(): void {
    if (!this.quiet) return;
    this.quiet = false;
    if (this.suppressed > 0) this.logger.info({ suppressed: this.suppressed }, 'kafka sends succeed again; kafkajs messages held back during the outage');
    this.suppressed = 0;
  }
}

class KafkajsProducer implements KafkaProducer {
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;
  private readonly breaker: CircuitBreakerPolicy = circuitBreaker(handleAll, { halfOpenAfter: HALF_OPEN_AFTER_MS, breaker: new ConsecutiveBreaker(BREAKER_FAILURES) });
  private closed = false;
  /** Batches still collecting records, by topic and compression. */
  private readonly collecting = new Map<string, Batch>();

  private readonly logSummary: KafkaLogSummary;

  constructor(config: KafkaConnectionConfig, private readonly options: KafkaClientOptions) {
    this.logSummary = new KafkaLogSummary(options.logger);
    const { Kafka, logLevel, Partitioners } = kafkajs();
    const kafka = new Kafka({
      clientId: config.client_id,
      brokers: config.bootstrap_servers.split(','),
      ssl: config.ssl as boolean | undefined,
      sasl: config.sasl as never,
      connectionTimeout: Math.min(1000, options.requestTimeoutMs),
      requestTimeout: options.requestTimeoutMs,
      retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 500 },
      logLevel: logLevel.WARN,
      logCreator: this.logSummary.creator(),
    });
    this.producer = kafka.producer({
      idempotent: false,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 500 },
    });
    this.breaker.onBreak(() => options.logger.warn('kafka broker unreachable; failing sends fast until a trial send succeeds'));
    this.breaker.onReset(() => options.logger.info('kafka broker reachable again'));
    // Eager connect so the first delivery does not pay for it; failures are retried on the next send.
    this.connect().catch(() => undefined);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      this.logSummary.failure('kafka producer connect failed', (err as Error).message);
      throw err;
    });
    return this.connecting;
  }

  connected(): Promise<boolean> {
    return this.connect().then(() => true, () => false);
  }

  send(send: KafkaSend): Promise<void> {
    if (this.closed) return Promise.reject(new KafkaUnavailableError('kafka producer is closed'));
    const key = `${send.topic}\u0000${send.compression}`;
    let batch = this.collecting.get(key);
    if (!batch) {
      const fresh: Batch = { topic: send.topic, compression: send.compression, records: [], waiters: [] };
      this.collecting.set(key, fresh);
      setImmediate(() => this.flush(key, fresh));
      batch = fresh;
    }
    batch.records.push(...send.records);
    // A full batch takes no more records; it still goes out on its scheduled flush.
    if (batch.records.length >= MAX_BATCH_RECORDS) this.collecting.delete(key);
    const target = batch;
    return new Promise<void>((resolve, reject) => target.waiters.push({ resolve, reject }));
  }

  private flush(key: string, batch: Batch): void {
    if (this.collecting.get(key) === batch) this.collecting.delete(key);
    this.produce(batch).then(
      () => batch.waiters.forEach((w) => w.resolve()),
      (err: unknown) => batch.waiters.forEach((w) => w.reject(err)),
    );
  }

  private async produce(batch: Batch): Promise<void> {
    if (this.closed) throw new KafkaUnavailableError('kafka producer is closed');
    try {
      await this.breaker.execute(async () => {
        await this.connect();
        await this.producer.send({
          topic: batch.topic,
          acks: -1,
          timeout: this.options.requestTimeoutMs,
          compression: batch.compression === 'gzip' ? kafkajs().CompressionTypes.GZIP : kafkajs().CompressionTypes.None,
          messages: batch.records.map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers }, partition: r.partition })),
        });
      });
      this.logSummary.healthy();
    } catch (err) {
      if (err instanceof Error && (err.name === 'BrokenCircuitError' || err.name === 'IsolatedCircuitError')) {
        throw new KafkaUnavailableError('kafka broker is known to be down; failing fast');
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.producer.disconnect().catch(() => undefined);
  }
}

export function createKafkaProducer(config: KafkaConnectionConfig, options: KafkaClientOptions): KafkaProducer {
  return new KafkajsProducer(config, options);
}

/** `kafka`: one kafkajs producer per connection config (acks=-1, batched per event-loop turn). */
export const kafkaConnection = defineConnectionType({
  type: 'kafka',
  schema: kafkaConnectionSchema,
  create(config, ctx) {
    const producer = createKafkaProducer(config, { logger: ctx.logger, requestTimeoutMs: ctx.timeoutMs });
    // Readiness is the producer's own breaker: once the broker is known down, sends fail at once.
    return { client: producer, ready: () => Promise.resolve(true), close: () => producer.close() };
  },
});
