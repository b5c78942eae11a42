/**
 * Live connections by name. A changed config builds the new client first and
 * swaps it in once it has connected (or after the timeout, so a config
 * pointing at a dead server still takes effect); the old client is closed
 * after its in-flight work. The same config applied again keeps the client.
 */
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../config/types.js';
import { ClientLifecycle } from './client-lifecycle.js';
import { createKafkaProducer } from './kafka-client.js';
import { createRedisClient, readiness } from './redis-client.js';
import type { Connection, ConnectionLookup } from './types.js';

export interface ConnectionRegistryOptions {
  /** Bounds connects, commands and the drain of a replaced client; OUTPUT_TIMEOUT_MS. */
  readonly timeoutMs: number;
}

interface Entry {
  readonly connection: Connection;
  /** The config as applied, to skip rebuilding on an identical re-put. */
  readonly fingerprint: string;
  /** Settles (never rejects) once the client connected or failed its first attempt. */
  readonly connected: Promise<unknown>;
  close(): Promise<void>;
}

const DEFAULT_OPTIONS: ConnectionRegistryOptions = { timeoutMs: 5000 };

export class ConnectionRegistry implements ConnectionLookup {
  private readonly live = new Map<string, Entry>();
  /** Changed configs whose new client is still connecting; `live` keeps serving the old one meanwhile. */
  private readonly pending = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();
  private generation = 0;

  constructor(private readonly logger: Logger, private readonly options: ConnectionRegistryOptions = DEFAULT_OPTIONS) {}

  get(name: string): Connection | undefined {
    return this.live.get(name)?.connection;
  }

  apply(name: string, config: ConnectionConfig): void {
    const fingerprint = JSON.stringify(config);
    const current = this.pending.get(name) ?? this.live.get(name);
    if (current?.fingerprint === fingerprint) return;
    this.dropPending(name);
    const entry = this.build(name, config, fingerprint);
    const old = this.live.get(name);
    if (!old) {
      this.live.set(name, entry);
      this.logger.info({ connection: name, type: entry.connection.type, generation: entry.connection.generation }, 'connection applied');
      return;
    }
    this.pending.set(name, entry);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((resolve) => (timer = setTimeout(resolve, this.options.timeoutMs)));
    void Promise.race([entry.connected, deadline]).then(() => {
      clearTimeout(timer);
      if (this.pending.get(name) !== entry) return; // superseded or removed meanwhile
      this.pending.delete(name);
      const replaced = this.live.get(name);
      this.live.set(name, entry);
      this.logger.info({ connection: name, type: entry.connection.type, generation: entry.connection.generation }, 'connection changed; new client in use, old one closes after in-flight work');
      if (replaced) this.retire(replaced);
    });
  }

  remove(name: string): void {
    this.dropPending(name);
    const old = this.live.get(name);
    if (!old) return;
    this.live.delete(name);
    this.retire(old);
  }

  private dropPending(name: string): void {
    const pending = this.pending.get(name);
    if (!pending) return;
    this.pending.delete(name);
    this.retire(pending);
  }

  names(): string[] {
    return [...this.live.keys()];
  }

  async closeAll(): Promise<void> {
    for (const name of new Set([...this.live.keys(), ...this.pending.keys()])) this.remove(name);
    await Promise.allSettled([...this.closing]);
  }

  private retire(entry: Entry): void {
    const done = entry.close().catch((err: unknown) => this.logger.warn({ connection: entry.connection.name, reason: (err as Error).message }, 'closing a connection client failed'));
    this.closing.add(done);
    void done.finally(() => this.closing.delete(done));
  }

  private build(name: string, config: ConnectionConfig, fingerprint: string): Entry {
    const generation = ++this.generation;
    const logger = this.logger.child({ connection: name, generation });
    const life = new ClientLifecycle();
    const drainMs = this.options.timeoutMs;
    const base = { name, generation, use: life.use.bind(life), shared: life.shared.bind(life) };
    if (config.type === 'kafka') {
      const producer = createKafkaProducer(config, { logger, requestTimeoutMs: this.options.timeoutMs });
      return { fingerprint, connection: { ...base, type: 'kafka', producer }, connected: producer.connected(), close: () => life.close(drainMs, () => producer.close()) };
    }
    // `redis-rq` is CWM's name for the same Redis connection.
    const redis = createRedisClient(config, { logger, timeoutMs: this.options.timeoutMs });
    const untilReady = readiness(redis);
    const connection: Connection = { ...base, type: 'redis', redis, untilReady };
    const closeRedis = async (): Promise<void> => {
      // quit() waits for replies to commands already sent; disconnect() when Redis is gone anyway.
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    };
    return { fingerprint, connection, connected: untilReady(), close: () => life.close(drainMs, closeRedis) };
  }
}
