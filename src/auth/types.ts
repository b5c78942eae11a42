/**
 * A request check: one file exporting a `CheckModule` (its config field, its
 * schema with defaults, its phase and order, the headers carrying its
 * credentials, and `compile`), compiled once per webhook config and run per
 * request. src/auth/registry.ts lists them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { ConnectionLookup } from '../connections/types.js';

export interface RequestView {
  readonly method: string;
  /** The request path without the query string. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
  /** The peer address, or the X-Forwarded-For client when the peer is a trusted proxy. */
  readonly clientIp: string;
  readonly namespace: string;
  readonly webhookId: string;
  /** Empty until the body has been read. */
  readonly rawBody: Buffer;
  /** The decoded JSON payload in the `payload` phase; undefined before it (and for blob webhooks). */
  readonly payload: unknown;
}

export interface Rejection {
  readonly status: number;
  readonly error: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type CheckResult = Rejection | null;

/**
 * When a check runs: `headers` before the body is read, `body` with the raw
 * bytes, `payload` after JSON decoding; `after-auth` takes the latest phase
 * of the webhook's other checks (the rate limit: unauthenticated traffic
 * never spends a legitimate sender's budget).
 */
export type CheckPhase = 'headers' | 'body' | 'payload';

/** `signal` aborts at the request's deadline: a check that calls out must stop waiting (answered 503). */
export type CheckRun = (req: RequestView, signal: AbortSignal) => CheckResult | Promise<CheckResult>;

export interface RequestCheck {
  readonly name: string;
  readonly phase: CheckPhase;
  readonly run: CheckRun;
}

export interface CheckContext {
  readonly namespace: string;
  readonly id: string;
  readonly connections: ConnectionLookup;
  readonly logger: Logger;
  /** Milliseconds since the epoch; tests pin it to vendors' example timestamps. */
  readonly now: () => number;
}

/**
 * An OpenAPI 3 security scheme object: how a sender presents this check's
 * credential (header or parameter names, algorithm). Published on
 * /openapi.json, so it never holds a secret, a username or an internal URL.
 */
export type SecurityScheme = Readonly<{ type: 'http' | 'apiKey'; scheme?: string; bearerFormat?: string; name?: string; in?: 'header' | 'query'; description: string }>;

export interface CheckModule {
  /** The webhook config field that turns this check on (`hmac`, `basic_auth`, ...). */
  readonly field: string;
  /** JSON Schema of that field, defaults inside; `null` is accepted and means "not configured" (CWM writes it). */
  readonly schema: TSchema;
  readonly phase: CheckPhase | 'after-auth';
  /** Lower runs first: cheap checks before secret work. */
  readonly order: number;
  /** Credential headers this check reads whatever its config: never forwarded, always redacted. */
  readonly sensitiveHeaders: readonly string[];
  /** Credential headers named by the config (a custom header name); never forwarded to outputs. */
  credentialHeaders(config: unknown): readonly string[];
  /** Connections the check depends on (a Redis for a shared limiter). */
  connections(config: unknown): readonly string[];
  /** `config` has passed `schema`; throws ConfigError (pointer relative to the field) for what a schema cannot express. */
  compile(config: unknown, ctx: CheckContext): CheckRun;
  /** The credential as an OpenAPI security scheme; undefined for checks that are not credentials (IP list, rate limit). */
  describe(config: unknown): SecurityScheme | undefined;
}

const NONE: readonly string[] = Object.freeze([]);

/** Declares a check; its functions see the config typed by its own schema. */
export function defineCheck<S extends TSchema>(d: {
  readonly field: string;
  readonly schema: S;
  readonly phase: CheckModule['phase'];
  readonly order: number;
  readonly sensitiveHeaders?: readonly string[];
  credentialHeaders?(config: Static<S>): readonly string[];
  connections?(config: Static<S>): readonly string[];
  compile(config: Static<S>, ctx: CheckContext): CheckRun;
  describe?(config: Static<S>): SecurityScheme;
}): CheckModule {
  // The assembled webhook schema validated each config against d.schema before these run.
  return {
    field: d.field,
    schema: d.schema,
    phase: d.phase,
    order: d.order,
    sensitiveHeaders: d.sensitiveHeaders ?? NONE,
    credentialHeaders: (config) => (d.credentialHeaders ? d.credentialHeaders(config as Static<S>) : NONE),
    connections: (config) => (d.connections ? d.connections(config as Static<S>) : NONE),
    compile: (config, ctx) => d.compile(config as Static<S>, ctx),
    describe: (config) => d.describe?.(config as Static<S>),
  };
}

/**
 * Outcome of claiming a sender's delivery id before delivering. Only a
 * committed claim makes later copies duplicates: a released one (delivery
 * failed, 503) lets the sender's retry through.
 */
export type DedupeClaim =
  | { readonly kind: 'new'; commit(): Promise<void>; release(): Promise<void> }
  | { readonly kind: 'duplicate' }
  /** Another request with this id is being delivered right now. */
  | { readonly kind: 'busy' }
  | { readonly kind: 'unavailable' };

export interface DeliveryDedupe {
  claim(deliveryId: string): Promise<DedupeClaim>;
}
