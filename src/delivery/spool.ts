/**
 * The durable spool (webhooks with `retry.enabled` while a spool connection is
 * configured): the request path adds one BullMQ job per delivery and answers
 * 202 once Redis has it; workers in every cwm instance take the jobs and run
 * the webhook's outputs, with exponential backoff plus jitter, at most
 * `max_attempts` times; an exhausted job stays in BullMQ's failed set (the
 * dead letters) with its last error until replayed or purged.
 *
 * Which config a delivery runs with: the outputs as configured when the
 * attempt runs (a fixed destination or rotated credential applies to what is
 * still waiting; a deleted webhook dead-letters its waiting deliveries), the
 * retry policy as it was at acceptance (stored in the job: BullMQ fixes
 * attempts per job). The job holds no secrets: credential and signature
 * headers were stripped before, and connection configs are looked up by name.
 */
import type * as BullMQ from 'bullmq';
import type { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CompiledWebhook } from '../config/compile.js';
import { lazyModule } from '../connections/lazy-module.js';
import type { LiveConnections } from '../connections/live.js';
import { redisConnection } from '../connections/redis.js';
import { UnavailableError } from '../errors.js';
import { bodyFormat, decodePayload } from '../http/payload.js';
import type { Metrics } from '../observability/metrics.js';
import { jobIdFor } from '../outputs/redis-queue.js';
import { deliver } from './deliver.js';
import { retryDelayMs } from './retry-policy.js';
import { deferDelayMs, FAIR_WAIT_MS, WebhookSlots } from './spool-fairness.js';
import { DeliveryTimeouts } from './timeouts.js';
import type { Delivery } from './types.js';
import { SpoolMetrics } from './spool-metrics.js';

const bullmq = lazyModule<typeof BullMQ>('bullmq');

export const SPOOL_QUEUE = 'deliveries';
export const SPOOL_PREFIX = 'cwm-spool';
const BACKOFF_TYPE = 'cwm';
/** Completed jobs are kept this long so that a sender's late retry of a delivered id still adds nothing. */
const KEEP_COMPLETED_SECONDS = 86_400;

/** What a job stores: the request as outputs see it, minus anything secret. */
export interface SpooledDelivery {
  readonly v: 1;
  readonly deliveryId: string;
  readonly requestId?: string;
  readonly namespace: string;
  readonly webhookId: string;
  readonly receivedAt: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body, base64: JSON payloads are decoded again per attempt. */
  readonly body: string;
  readonly contentType: string;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
}

/** The spool's job id: the webhook and the delivery id, so two webhooks' equal ids never collide. */
export function spoolJobId(namespace: string, webhookId: string, deliveryId: string): string {
  return jobIdFor(`${namespace}/${webhookId}/${deliveryId}`);
}

export interface SpoolOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly connections: LiveConnections;
  readonly lookup: (namespace: string, id: string) => CompiledWebhook | undefined;
  /** Every active webhook, scanned for `retry.connection` overrides that need a worker. */
  readonly webhooks: () => Iterable<CompiledWebhook>;
  /** SPOOL_CONNECTION; without it only webhooks naming `retry.connection` spool. */
  readonly defaultConnection?: string;
  readonly concurrency: number;
  /** SPOOL_WEBHOOK_CONCURRENCY: attempts of one webhook at once in this instance (fairness). */
  readonly webhookConcurrency: number;
  readonly lockMs: number;
  readonly outputTimeoutMs: number;
  readonly maxJsonDepth: number;
}

/** A worker on one spool connection's client, with the admin queue on the same Redis. */
interface Working {
  readonly worker: Worker<SpooledDelivery>;
  readonly queue: Queue<SpooledDelivery>;
  readonly adminClient: Redis;
  /** The connection's client generation the worker was started on. */
  readonly generation: number;
  readonly log: Logger;
}

/** A worker left on the old Redis after its connection changed, until nothing waits there. */
interface Draining {
  readonly working: Working;
  checking: boolean;
}

/** How often the workers' connections are compared with the live ones (a changed spool connection moves the workers within this long). */
const WATCH_MS = 1000;

export class Spool {
  private readonly workers = new Map<string, Working | 'starting'>();
  private readonly draining = new Set<Draining>();
  private watchTimer: NodeJS.Timeout | undefined;
  private readonly timeouts: DeliveryTimeouts;
  private readonly metrics: SpoolMetrics;
  private readonly slots: WebhookSlots;
  private scanTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: SpoolOptions) {
    this.timeouts = new DeliveryTimeouts(options.outputTimeoutMs);
    this.metrics = new SpoolMetrics(options.metrics.registry, () => this.queues());
    this.slots = new WebhookSlots(Math.min(options.webhookConcurrency, options.concurrency));
  }

  /** The spool connection of a webhook, or undefined: then it is delivered synchronously. */
  connectionFor(hook: CompiledWebhook): string | undefined {
    if (!hook.retry) return undefined;
    return hook.retry.connection ?? this.options.defaultConnection;
  }

  /**
   * Adds the delivery; resolves once Redis acknowledged the job (or it existed
   * already: a sender's retry). UnavailableError when the spool cannot take it.
   */
  async accept(hook: CompiledWebhook, connection: string, delivery: Delivery): Promise<string> {
    const policy = hook.retry;
    if (!policy) throw new Error('accept() needs a webhook with retry');
    this.ensureWorker(connection);
    const conn = await this.options.connections.ready(connection, redisConnection);
    const queue = this.producerOn(connection, conn.generation, conn.client);
    const jobId = spoolJobId(delivery.namespace, delivery.webhookId, delivery.id);
    const data: SpooledDelivery = {
      v: 1,
      deliveryId: delivery.id,
      requestId: delivery.requestId,
      namespace: delivery.namespace,
      webhookId: delivery.webhookId,
      receivedAt: delivery.receivedAt,
      headers: delivery.headers,
      body: delivery.rawBody.toString('base64'),
      contentType: delivery.contentType,
      initialDelayMs: policy.initialDelayMs,
      maxDelayMs: policy.maxDelayMs,
      multiplier: policy.multiplier,
    };
    try {
      await conn.use(() =>
        queue.add(`${delivery.namespace}/${delivery.webhookId}`, data, {
          jobId,
          attempts: policy.maxAttempts,
          backoff: { type: BACKOFF_TYPE },
          removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
          removeOnFail: false,
        }),
      );
    } catch (err) {
      // BullMQ keeps a failed start-up (e.g. a queue first used while Redis was down) and fails every later add with it: rebuild next time.
      this.dropProducer(connection, queue);
      throw new UnavailableError(`spool connection "${connection}" did not take the delivery: ${(err as Error).message}`);
    }
    this.metrics.spooled.inc({ namespace: delivery.namespace });
    return jobId;
  }

  /** Starts the workers of SPOOL_CONNECTION and of every `retry.connection`; rescans for new overrides. */
  start(): void {
    const scan = (): void => {
      if (this.options.defaultConnection) this.ensureWorker(this.options.defaultConnection);
      for (const hook of this.options.webhooks()) if (hook.retry?.connection) this.ensureWorker(hook.retry.connection);
    };
    scan();
    this.scanTimer = setInterval(scan, 10_000).unref();
    this.watchTimer = setInterval(() => this.followConnectionChanges(), WATCH_MS).unref();
  }

  /**
   * A spool connection whose config changed (new client generation) gets a
   * worker on the new Redis; the old worker keeps working the old Redis until
   * nothing waits or is delayed there, then closes — no restart needed, and
   * what was accepted into the old spool is still delivered.
   */
  private followConnectionChanges(): void {
    for (const [name, w] of this.workers) {
      if (w === 'starting') continue;
      const generation = this.options.connections.generationOf(name);
      if (generation === undefined || generation === w.generation) continue;
      this.workers.delete(name);
      this.draining.add({ working: w, checking: false });
      w.log.info({ old_generation: w.generation, generation }, 'spool connection changed; a worker starts on the new Redis, the old one drains what waits in the old spool');
      this.ensureWorker(name);
    }
    for (const d of this.draining) void this.closeIfDrained(d);
  }

  private async closeIfDrained(d: Draining): Promise<void> {
    if (d.checking) return;
    d.checking = true;
    try {
      // An unreachable old Redis answers nothing: the worker stays, in case it comes back with deliveries in it.
      const counts = await d.working.queue.getJobCounts('waiting', 'delayed', 'prioritized').catch(() => undefined);
      if (!counts || Object.values(counts).some((n) => n > 0) || !this.draining.has(d)) return;
      this.draining.delete(d);
      await this.stopWorking(d.working);
      d.working.log.info({ generation: d.working.generation }, 'old spool drained; its worker closed');
    } finally {
      d.checking = false;
    }
  }

  /** Attempts in progress finish first (BullMQ worker.close()); then both of its Redis clients close. */
  private async stopWorking(w: Working): Promise<void> {
    await w.worker.close().catch(() => undefined);
    await w.worker.disconnect().catch(() => undefined);
    await w.queue.close().catch(() => undefined);
    w.adminClient.disconnect();
  }

  /** Stops taking jobs; an attempt in progress finishes first (BullMQ worker.close()), none is lost. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.scanTimer);
    clearInterval(this.watchTimer);
    const working = [...this.workers.values()].filter((w): w is Working => w !== 'starting');
    const draining = [...this.draining].map((d) => d.working);
    this.draining.clear();
    await Promise.allSettled([...working, ...draining].map((w) => this.stopWorking(w)));
    await Promise.allSettled([...this.producers.values()].map((p) => p.queue.close()));
  }

  /** The spool queue on a connection this instance works (default SPOOL_CONNECTION), for the admin API; undefined until its worker started. */
  adminQueue(connection = this.options.defaultConnection): Queue<SpooledDelivery> | undefined {
    const w = connection === undefined ? undefined : this.workers.get(connection);
    return w === undefined || w === 'starting' ? undefined : w.queue;
  }

  /** Queues for the depth gauges: one per worker connection, and old spools still draining. */
  private queues(): Queue<SpooledDelivery>[] {
    const working = [...this.workers.values()].filter((w): w is Working => w !== 'starting');
    return [...working, ...[...this.draining].map((d) => d.working)].map((w) => w.queue);
  }

  /** Producer queues per spool connection, on the connection's own client; rebuilt for a new client generation or after a failed add. */
  private readonly producers = new Map<string, { generation: number; queue: Queue<SpooledDelivery> }>();

  private producerOn(name: string, generation: number, client: Redis): Queue<SpooledDelivery> {
    const current = this.producers.get(name);
    if (current && current.generation === generation) return current.queue;
    if (current) void current.queue.close().catch(() => undefined);
    const queue = new (bullmq().Queue)<SpooledDelivery>(SPOOL_QUEUE, { connection: client, prefix: SPOOL_PREFIX });
    queue.on('error', (err: Error) => this.options.logger.debug({ reason: err.message }, 'spool queue error'));
    this.producers.set(name, { generation, queue });
    return queue;
  }

  private dropProducer(name: string, queue: Queue<SpooledDelivery>): void {
    if (this.producers.get(name)?.queue !== queue) return;
    this.producers.delete(name);
    // close() of a Queue on a shared client leaves the client open.
    void queue.close().catch(() => undefined);
  }

  /** One worker per spool connection and instance, on a Redis client of its own (BullMQ blocks on it). */
  private ensureWorker(name: string): void {
    if (this.closed || this.workers.has(name)) return;
    this.workers.set(name, 'starting');
    const log = this.options.logger.child({ spool_connection: name });
    const attempt = async (): Promise<void> => {
      if (this.closed) return;
      try {
        const conn = await this.options.connections.ready(name, redisConnection);
        if (this.closed) return;
        const connection = conn.client.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined, connectionName: 'cwm-spool' });
        const adminClient = conn.client.duplicate({ connectionName: 'cwm-spool-admin' });
        const queue = new (bullmq().Queue)<SpooledDelivery>(SPOOL_QUEUE, { connection: adminClient, prefix: SPOOL_PREFIX });
        queue.on('error', () => undefined);
        this.workers.set(name, { worker: this.createWorker(connection, log), queue, adminClient, generation: conn.generation, log });
        log.info({ generation: conn.generation }, 'spool worker started');
      } catch (err) {
        log.warn({ reason: (err as Error).message }, 'spool connection not available yet; worker starts once it is');
        setTimeout(() => void attempt(), 2000).unref();
      }
    };
    void attempt();
  }

  /** One attempt of a spooled delivery: the webhook's outputs as configured now. */
  private async attempt(job: Job<SpooledDelivery>, Unrecoverable: typeof BullMQ.UnrecoverableError): Promise<void> {
    const data = job.data;
    const hook = this.options.lookup(data.namespace, data.webhookId);
    if (!hook) throw new Unrecoverable(`webhook ${data.namespace}/${data.webhookId} is no longer configured`);
    const rawBody = Buffer.from(data.body, 'base64');
    // A form body was accepted as one, so it parses as one again (the type is stored with the body).
    const payload = hook.dataType === 'json' ? decodePayload(rawBody, bodyFormat(data.contentType) ?? 'json', this.options.maxJsonDepth) : rawBody;
    const delivery: Delivery = { id: data.deliveryId, requestId: data.requestId, namespace: data.namespace, webhookId: data.webhookId, receivedAt: data.receivedAt, headers: data.headers, payload, rawBody, contentType: data.contentType };
    const started = performance.now();
    try {
      // Each spool attempt is one in-process attempt: the spool itself retries, durably.
      await deliver(hook.outputs, { ...hook.execution, retry: undefined }, delivery, this.timeouts);
    } finally {
      this.metrics.attemptSeconds.observe((performance.now() - started) / 1000);
    }
  }

  private createWorker(connection: Redis, log: Logger): Worker<SpooledDelivery> {
    const { Worker: BullWorker, UnrecoverableError, DelayedError } = bullmq();
    const worker = new BullWorker<SpooledDelivery>(
      SPOOL_QUEUE,
      async (job: Job<SpooledDelivery>, token?: string) => {
        const data = job.data;
        const release = await this.slots.acquire(`${data.namespace}/${data.webhookId}`, FAIR_WAIT_MS);
        if (!release) {
          // Its webhook has all its slots busy (a slow destination): back to delayed, not an attempt, the worker slot goes to others.
          await job.moveToDelayed(Date.now() + deferDelayMs(), token);
          this.metrics.deferred.inc({ namespace: data.namespace });
          throw new DelayedError();
        }
        try {
          await this.attempt(job, UnrecoverableError);
        } finally {
          release();
        }
      },
      {
        connection,
        prefix: SPOOL_PREFIX,
        concurrency: this.options.concurrency,
        // An attempt is bounded by OUTPUT_TIMEOUT_MS, far below the lock; the lock is renewed every lockMs/2 meanwhile.
        lockDuration: this.options.lockMs,
        stalledInterval: this.options.lockMs,
        // A crash is not the delivery's fault: stalls never dead-letter it (attempts still do).
        maxStalledCount: 1000,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, _err?: Error, job?: { data: SpooledDelivery }) =>
            job ? retryDelayMs({ initialDelayMs: job.data.initialDelayMs, maxDelayMs: job.data.maxDelayMs, multiplier: job.data.multiplier }, attemptsMade) : 1000,
        },
      },
    );
    worker.on('error', (err: Error) => log.debug({ reason: err.message }, 'spool worker error'));
    worker.on('completed', (job: Job<SpooledDelivery>) => {
      this.metrics.delivered.inc({ namespace: job.data.namespace });
      log.debug({ namespace: job.data.namespace, webhook_id: job.data.webhookId, delivery_id: job.data.deliveryId, attempts: job.attemptsMade }, 'spooled delivery delivered');
    });
    worker.on('failed', (job: Job<SpooledDelivery> | undefined, err: Error) => {
      if (!job) return;
      const reason = err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
      const fields = { namespace: job.data.namespace, webhook_id: job.data.webhookId, delivery_id: job.data.deliveryId, attempts: job.attemptsMade, reason };
      const exhausted = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (exhausted) {
        this.metrics.deadLettered.inc({ namespace: job.data.namespace });
        log.warn(fields, 'spooled delivery dead-lettered');
      } else {
        this.metrics.retried.inc({ namespace: job.data.namespace });
        log.info(fields, 'spooled delivery attempt failed; retrying with backoff');
      }
    });
    return worker;
  }
}
