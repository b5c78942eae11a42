/**
 * Live connections by name. A changed config builds the new client first and
 * swaps it in once it has connected (or after the timeout, so a config
 * pointing at a dead server still takes effect); the old client is closed
 * after its in-flight work. The same config applied again keeps the client.
 */
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { ClientLifecycle } from './client-lifecycle.js';
import { findConnectionType } from './registry.js';
import type { Connection, ConnectionLookup, ConnectionType } from './types.js';

export interface LiveConnectionsOptions {
  /** Bounds connects, commands and the drain of a replaced client; OUTPUT_TIMEOUT_MS. */
  readonly timeoutMs: number;
}

/** A validated connection config: `type` plus the fields its type's schema allows. */
export interface ConnectionConfig {
  readonly type: string;
  readonly [field: string]: unknown;
}

interface Entry {
  readonly connection: Connection;
  readonly ready: () => Promise<boolean>;
  /** The config as applied, to skip rebuilding on an identical re-put. */
  readonly fingerprint: string;
  close(): Promise<void>;
}

const DEFAULT_OPTIONS: LiveConnectionsOptions = { timeoutMs: 5000 };

export class LiveConnections implements ConnectionLookup {
  private readonly live = new Map<string, Entry>();
  /** Changed configs whose new client is still connecting; `live` keeps serving the old one meanwhile. */
  private readonly pending = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();
  private generation = 0;

  constructor(private readonly logger: Logger, private readonly options: LiveConnectionsOptions = DEFAULT_OPTIONS) {}

  has(name: string): boolean {
    return this.live.has(name);
  }

  async ready<C>(name: string, type: ConnectionType<C>): Promise<Connection<C>> {
    const entry = this.live.get(name);
    if (!entry) throw new UnavailableError(`connection "${name}" is missing or invalid`);
    if (entry.connection.type !== type) throw new UnavailableError(`connection "${name}" is ${entry.connection.type.type}, not ${type.type}`);
    // Known down: fail now rather than wait out the output timeout.
    if (!(await entry.ready())) throw new UnavailableError(`${type.type} connection "${name}" is not connected`);
    // The type check above is what makes this the client type C.
    return entry.connection as Connection<C>;
  }

  /** `config` has passed the connection schema. */
  apply(name: string, config: ConnectionConfig): void {
    const fingerprint = JSON.stringify(config);
    const current = this.pending.get(name) ?? this.live.get(name);
    if (current?.fingerprint === fingerprint) return;
    this.dropPending(name);
    const entry = this.build(name, config, fingerprint);
    const old = this.live.get(name);
    const fields = { connection: name, type: entry.connection.type.type, generation: entry.connection.generation };
    if (!old) {
      this.live.set(name, entry);
      this.logger.info(fields, 'connection applied');
      return;
    }
    this.pending.set(name, entry);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((resolve) => (timer = setTimeout(resolve, this.options.timeoutMs)));
    void Promise.race([entry.ready().catch(() => false), deadline]).then(() => {
      clearTimeout(timer);
      if (this.pending.get(name) !== entry) return; // superseded or removed meanwhile
      this.pending.delete(name);
      const replaced = this.live.get(name);
      this.live.set(name, entry);
      this.logger.info(fields, 'connection changed; new client in use, old one closes after in-flight work');
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

  /** The generation of the client in use for `name` now (without waiting for it to connect); undefined when absent. */
  generationOf(name: string): number | undefined {
    return this.live.get(name)?.connection.generation;
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
    const type = findConnectionType(config.type);
    // The connection schema only admits registered types.
    if (!type) throw new Error(`unregistered connection type ${config.type}`);
    const generation = ++this.generation;
    const logger = this.logger.child({ connection: name, generation });
    const life = new ClientLifecycle();
    const live = type.create(config, { name, logger, timeoutMs: this.options.timeoutMs });
    const connection: Connection = { name, type, generation, client: live.client, use: life.use.bind(life), shared: life.shared.bind(life) };
    const drainMs = this.options.timeoutMs;
    return { fingerprint, connection, ready: () => live.ready(), close: () => life.close(drainMs, () => live.close()) };
  }
}
