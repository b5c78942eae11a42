/**
 * Shared connections (`<prefix>global/connections/<name>`): one client per
 * connection config, reused by every delivery, rebuilt when the config
 * changes. A connection type is one file exporting a `ConnectionType`
 * (schema with defaults + create); src/connections/registry.ts lists them.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { Logger } from 'pino';

export interface Closable {
  close(): Promise<void>;
}

/** What a connection type's create() gets. */
export interface ClientContext {
  readonly name: string;
  readonly logger: Logger;
  /** Bounds connects and each command; OUTPUT_TIMEOUT_MS. */
  readonly timeoutMs: number;
}

/** A client as a connection type builds it. */
export interface LiveClient<C> {
  readonly client: C;
  /**
   * True when work can be sent now; false at once while the server is known
   * down (fail fast, no offline queue); while a fresh client makes its first
   * connection, waits for that attempt.
   */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConnectionType<C = unknown> {
  /** The `type` value in the connection config. */
  readonly type: string;
  /** Other `type` values meaning the same (CWM's names). */
  readonly aliases: readonly string[];
  /** JSON Schema of the fields besides `type`, with defaults; unknown fields are refused. */
  readonly schema: TObject;
  /** `config` has passed `schema` (defaults filled in). */
  create(config: unknown, ctx: ClientContext): LiveClient<C>;
}

/** Declares a connection type; `create` sees its config typed by its own schema. */
export function defineConnectionType<S extends TObject, C>(d: {
  readonly type: string;
  readonly aliases?: readonly string[];
  readonly schema: S;
  create(config: Static<S>, ctx: ClientContext): LiveClient<C>;
}): ConnectionType<C> {
  return {
    type: d.type,
    aliases: d.aliases ?? [],
    schema: d.schema,
    // The assembled connection schema validated `config` against d.schema before this runs.
    create: (config, ctx) => d.create(config as Static<S>, ctx),
  };
}

/** A live connection as outputs and checks use it. */
export interface Connection<C = unknown> {
  readonly name: string;
  readonly type: ConnectionType<C>;
  /** Bumped whenever the config changes: a new generation is a new client. */
  readonly generation: number;
  readonly client: C;
  /** Runs work on this client; a replaced client is closed only after such work settled. */
  use<T>(work: () => Promise<T>): Promise<T>;
  /** An object derived from this client (e.g. a BullMQ Queue), built once per key and closed with the client. */
  shared<T extends Closable>(key: string, create: () => T): T;
}

export interface ConnectionLookup {
  /** Whether a live connection of that name exists (of any type). */
  has(name: string): boolean;
  /**
   * The named connection of that type, ready to take work; an UnavailableError
   * (503 + Retry-After) when it is missing, of another type or known down.
   */
  ready<C>(name: string, type: ConnectionType<C>): Promise<Connection<C>>;
}
