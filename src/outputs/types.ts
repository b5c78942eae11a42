/**
 * The one small interface every output implements. An output module is one
 * file exporting an `OutputModule` made by `defineOutput`: its name (and
 * CWM's aliases), the JSON Schema of its `module-config` with defaults, the
 * connection types it can use, and `bind` — run once per webhook config
 * change with the validated module-config; `send` runs once per delivery.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { ConnectionLookup, ConnectionType } from '../connections/types.js';
import type { Delivery } from '../delivery/types.js';
import type { Settings } from '../settings.js';

/** The operator settings outputs read at bind time; a team's config cannot change them. */
export type OutputSettings = Pick<Settings, 'allowLocalhostForTests' | 'allowPrivateIpConnections' | 'saveToDiskBaseDir' | 'outputTimeoutMs' | 'trustedProxies'>;

/** What bind sees when no settings were handed in (tests, tools): every outbound guard closed, save_to_disk off. */
export const STRICT_OUTPUT_SETTINGS: OutputSettings = Object.freeze({ allowLocalhostForTests: false, allowPrivateIpConnections: false, saveToDiskBaseDir: undefined, outputTimeoutMs: 5000, trustedProxies: [] });

/** What bind sees of the webhook besides module-config: its connection name and CWM's top-level fields. */
export interface OutputSpec {
  readonly module: string;
  /** The webhook's `connection`; the schema requires it for modules with connection types, '' for the others. */
  readonly connection: string;
  /** CWM's top-level `topic` (kafka, mqtt); module-config wins. */
  readonly topic?: string;
  /** CWM's top-level `queue_name` (rabbitmq, redis_rq); module-config wins. */
  readonly queueName?: string;
}

export interface OutputContext {
  /** This webhook's logger (namespace and webhook_id bound): for events of the output itself. */
  readonly logger: Logger;
  /**
   * One logger shared by every webhook, without pino's path redaction (see
   * lineLogger): for one line per delivery, which names namespace and
   * webhook_id as fields. One shared logger keeps pino's code monomorphic;
   * a child per webhook makes it slow once thousands of webhooks are hit.
   */
  readonly deliveryLogger: Logger;
  readonly connections: ConnectionLookup;
  /** The outbound guard's and save_to_disk's operator settings. */
  readonly settings: OutputSettings;
  /** The webhook's namespace: save_to_disk writes each namespace under its own directory. */
  readonly namespace: string;
}

export interface BoundOutput {
  /**
   * Resolves once the destination acknowledged; rejects otherwise (an
   * UnavailableError when it cannot be reached). `signal` aborts at
   * OUTPUT_TIMEOUT_MS: stop waiting and release what the send holds.
   */
  send(delivery: Delivery, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Bound outputs that one module hands to many webhooks (the log output: one
 * per combination of switches). The compile step shares what it wraps around
 * them too; anything else is per webhook and not recorded.
 */
const sharedOutputs = new WeakSet<BoundOutput>();

/** Marks `output` as handed to every webhook configured alike; returns it. */
export function sharedOutput<T extends BoundOutput>(output: T): T {
  sharedOutputs.add(output);
  return output;
}

export function isSharedOutput(output: BoundOutput): boolean {
  return sharedOutputs.has(output);
}

/**
 * close() of an output that holds nothing of its own (its clients belong to the
 * connection registry): one shared function, not one closure per bound webhook.
 */
export async function nothingToClose(): Promise<void> {}

/** An error's errno-style code (ECONNREFUSED, EACCES, UND_ERR_...) or its name: safe to log, never a value. */
export function errorCode(err: unknown): string {
  if (!(err instanceof Error)) return 'error';
  const code: unknown = Reflect.get(err, 'code');
  return typeof code === 'string' ? code : err.name;
}

export interface OutputModule {
  readonly name: string;
  readonly aliases: readonly string[];
  /** JSON Schema of `module-config`, defaults inside; unknown fields are refused. */
  readonly schema: TObject;
  /** The connection types this module can send through; the webhook must then name a `connection`. */
  readonly connectionTypes: readonly ConnectionType[];
  /** `config` has passed `schema` with defaults filled in; throws ConfigError for what a schema cannot express. */
  bind(config: unknown, spec: OutputSpec, ctx: OutputContext): BoundOutput;
}

/** Declares an output module; `bind` sees its module-config typed by its own schema. */
export function defineOutput<S extends TObject>(d: {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly schema: S;
  readonly connectionTypes?: readonly ConnectionType[];
  bind(config: Static<S>, spec: OutputSpec, ctx: OutputContext): BoundOutput;
}): OutputModule {
  return {
    name: d.name,
    aliases: d.aliases ?? [],
    schema: d.schema,
    connectionTypes: d.connectionTypes ?? [],
    // The assembled webhook schema validated `config` against d.schema before bind runs.
    bind: (config, spec, ctx) => d.bind(config as Static<S>, spec, ctx),
  };
}
