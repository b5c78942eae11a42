/**
 * Up/down tracking for pooled SQL clients (pg, mysql2), which have no
 * connection state of their own: a pool opens sockets on demand. The first
 * probe runs at create, so the first delivery waits for that one attempt; a
 * connection-level failure marks the server down (ready() false at once, the
 * webhook answers 503 without waiting) and starts probing on the shared
 * backoff (≤ 1 s apart), so a server that is back is seen within about a second.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { reconnectDelayMs } from './backoff.js';

export interface SqlHealthOptions {
  /** 'postgresql' / 'mysql', for log lines. */
  readonly label: string;
  readonly logger: Logger;
  /** One cheap round trip (SELECT 1) through the pool; rejects when the server cannot be reached. */
  readonly probe: () => Promise<void>;
}

export class SqlHealth {
  private up: boolean | undefined;
  private first: Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;

  constructor(private readonly options: SqlHealthOptions) {
    this.first = this.check();
  }

  /** True when work can be sent; false at once while known down; waits for the first probe of a fresh pool. */
  async ready(): Promise<boolean> {
    if (this.up === undefined) await this.first;
    return this.up === true;
  }

  /** A query failed because the server could not be reached: fail fast from now until a probe succeeds. */
  markDown(reason: string): void {
    if (this.closed) return;
    if (this.up !== false) this.options.logger.warn({ reason }, `${this.options.label} unreachable; webhooks using it answer 503 until it is back`);
    this.up = false;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, reconnectDelayMs(++this.attempt));
    this.timer.unref();
  }

  private async check(): Promise<void> {
    try {
      await this.options.probe();
      if (this.closed) return;
      if (this.up !== true) this.options.logger.info(`${this.options.label} connected`);
      this.up = true;
      this.attempt = 0;
    } catch (err) {
      this.markDown(reasonOf(err));
    }
  }
}

/** What the SQL outputs see of a postgresql or mysql connection: one statement per call through the pool. */
/** What the outputs bind: JSON documents travel as text. */
export type SqlValue = string | number | boolean | Date | null;

export interface SqlClient {
  /**
   * Runs one statement with bound parameters (autocommit: resolved means
   * committed). An UnavailableError when the server cannot be reached or
   * `signal` aborted first; the server's own error otherwise.
   */
  execute(sql: string, params: readonly SqlValue[], signal?: AbortSignal): Promise<void>;
  /** Statements that can run at once (the pool's size): more wait for a pooled connection. */
  readonly maxConcurrency: number;
}

/** Rejects with `abortError()` once `signal` aborts; the statement itself runs on until its own timeout (it may still commit: at-least-once). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, abortError: () => Error): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** CWM's ssl_ca_cert / ssl_cert / ssl_key are file paths; placeholders may leave them empty (= not set). */
export function sslFiles(paths: { readonly ca?: string; readonly cert?: string; readonly key?: string }, read: (path: string) => Buffer): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  if (paths.ca) out.ca = read(paths.ca);
  if (paths.cert) out.cert = read(paths.cert);
  if (paths.key) out.key = read(paths.key);
  return out;
}

export interface SqlTls {
  readonly ssl?: { rejectUnauthorized: true; ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** A TLS file that could not be read: the pool never connects (fails closed), the reason is logged. */
  readonly sslError?: Error;
}

/** CWM's `ssl` + `ssl_ca_cert`/`ssl_cert`/`ssl_key`: verified against the CA (system CAs without ssl_ca_cert), stricter than CWM's ssl="require". */
export function verifiedTls(config: { readonly ssl?: boolean; readonly ssl_ca_cert?: string; readonly ssl_cert?: string; readonly ssl_key?: string }): SqlTls {
  if (!config.ssl) return {};
  try {
    return { ssl: { rejectUnauthorized: true, ...sslFiles({ ca: config.ssl_ca_cert, cert: config.ssl_cert, key: config.ssl_key }, (p) => readFileSync(p)) } };
  } catch (err) {
    return { sslError: new Error(`cannot read a TLS file: ${reasonOf(err)}`) };
  }
}

/**
 * The live client both SQL types hand out: one statement per execute, a
 * connection-level failure marks the pool down (fail fast until the health
 * probe sees it back), a server error on the statement is passed on.
 */
export function sqlLiveClient(options: {
  readonly kind: string;
  readonly name: string;
  readonly health: SqlHealth;
  readonly sslError: Error | undefined;
  readonly maxConcurrency: number;
  run(sql: string, params: SqlValue[]): Promise<unknown>;
  isConnectionError(err: unknown): boolean;
  end(): Promise<void>;
}): { client: SqlClient; ready(): Promise<boolean>; close(): Promise<void> } {
  const { kind, name, health, sslError } = options;
  const client: SqlClient = {
    maxConcurrency: options.maxConcurrency,
    async execute(sql, params, signal) {
      if (sslError) throw new UnavailableError(`${kind} connection "${name}": ${sslError.message}`);
      try {
        await raceAbort(options.run(sql, [...params]), signal, () => new UnavailableError(`${kind} statement timed out`));
      } catch (err) {
        if (err instanceof UnavailableError) throw err;
        if (!options.isConnectionError(err)) throw err;
        health.markDown(reasonOf(err));
        throw new UnavailableError(`${kind} connection "${name}" is not reachable`, { cause: err });
      }
    },
  };
  return {
    client,
    ready: () => health.ready(),
    async close() {
      health.close();
      await options.end();
    },
  };
}

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
