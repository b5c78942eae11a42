/**
 * Turns one validated webhook config into what the request path runs:
 * ajv payload validator, auth checks and bound outputs, built once per
 * config change and never per request (the fastify model).
 */
import type { ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import { AuthConfigError, compileChecks, compileDedupe, credentialHeaders } from '../auth/compile.js';
import type { DeliveryDedupe, RequestCheck } from '../auth/types.js';
import type { ConnectionLookup } from '../connections/types.js';
import type { Execution, NamedOutput } from '../delivery/deliver.js';
import { deliveryIdSource, type DeliveryIdSource } from '../delivery/delivery-id.js';
import { findOutput } from '../outputs/registry.js';
import { OutputConfigError, type OutputContext } from '../outputs/types.js';
import type { OutputEntry, WebhookConfig } from './types.js';
import { compilePayloadSchema, formatErrors, releasePayloadSchema } from './validation.js';
import { sharedLineLogger } from '../observability/logger.js';

export interface CompiledWebhook {
  readonly namespace: string;
  readonly id: string;
  readonly dataType: 'json' | 'blob';
  readonly maxBodyBytes: number;
  readonly headerChecks: readonly RequestCheck[];
  readonly bodyChecks: readonly RequestCheck[];
  /** Lower-case names of headers carrying this webhook's credentials; stripped before outputs see the headers. */
  readonly credentialHeaders: ReadonlySet<string>;
  /** Error lines (JSON pointers, no values) or null when the payload is valid; null validator when no json_schema. */
  readonly validatePayload: ((payload: unknown) => string[] | null) | null;
  /** The sender's delivery id from headers (or Stripe's body `id`); undefined when the sender gave none. */
  readonly deliveryId: DeliveryIdSource;
  /** Present when `dedupe` is configured: claimed before delivery, committed or released after. */
  readonly dedupe?: DeliveryDedupe;
  readonly outputs: readonly NamedOutput[];
  readonly execution: Execution;
  /** Every connection this webhook depends on (outputs, rate_limit, dedupe). */
  readonly connections: readonly string[];
  close(): Promise<void>;
}

export interface CompileContext {
  readonly logger: Logger;
  readonly connections: ConnectionLookup;
  readonly maxBodyBytes: number;
  /** Injected clock for timestamped signatures; Date.now by default. */
  readonly now?: () => number;
}

export class CompileError extends Error {}

function outputEntries(config: WebhookConfig): OutputEntry[] {
  if (config.chain) return config.chain;
  return [{ module: config.module as string, 'module-config': config['module-config'], connection: config.connection, topic: config.topic }];
}

/**
 * What outputs get at bind time. The webhook's pino child is made on first
 * use: with tens of thousands of webhooks, one per webhook at load is a large
 * share of startup time and memory (a class, so the getter costs no per-webhook closure).
 */
class WebhookOutputContext implements OutputContext {
  private child: Logger | undefined;

  constructor(private readonly ctx: CompileContext, private readonly namespace: string, private readonly id: string) {}

  get logger(): Logger {
    return (this.child ??= this.ctx.logger.child({ namespace: this.namespace, webhook_id: this.id }));
  }

  get deliveryLogger(): Logger {
    return sharedLineLogger(this.ctx.logger);
  }

  get connections(): ConnectionLookup {
    return this.ctx.connections;
  }
}

type PayloadValidator = { fn: CompiledWebhook['validatePayload']; release: () => void };

/** Shared by every webhook without checks or connections: tens of thousands of empty arrays add up. */
const NONE: readonly never[] = Object.freeze([]);

const NO_VALIDATOR: PayloadValidator = { fn: null, release: () => undefined };

function payloadValidator(schema: Record<string, unknown> | undefined): PayloadValidator {
  if (!schema) return NO_VALIDATOR;
  let validate: ValidateFunction;
  try {
    validate = compilePayloadSchema(schema);
  } catch (err) {
    throw new CompileError(`/json_schema is not a valid JSON Schema: ${(err as Error).message}`);
  }
  return {
    fn: (payload) => (validate(payload) ? null : formatErrors(validate.errors)),
    release: () => releasePayloadSchema(schema),
  };
}

async function closeAll(outputs: readonly NamedOutput[]): Promise<void> {
  await Promise.allSettled(outputs.map((b) => b.output.close()));
}

function dependencies(config: WebhookConfig): readonly string[] {
  const names = outputEntries(config).flatMap((e) => (e.connection ? [e.connection] : []));
  if (config.rate_limit?.connection) names.push(config.rate_limit.connection);
  if (config.dedupe) names.push(config.dedupe.connection);
  return names.length === 0 ? NONE : [...new Set(names)];
}

export function compileWebhook(namespace: string, id: string, config: WebhookConfig, ctx: CompileContext): CompiledWebhook {
  const scope = new WebhookOutputContext(ctx, namespace, id);
  // Auth first: it binds nothing, so a bad auth field fails before any output was bound.
  const authCtx = { namespace, id, connections: ctx.connections, get logger() { return scope.logger; }, now: ctx.now };
  let checks: RequestCheck[];
  try {
    checks = compileChecks(config, authCtx);
  } catch (err) {
    if (err instanceof AuthConfigError) throw new CompileError(err.message);
    throw err;
  }
  const validator = payloadValidator(config.json_schema);
  const bound: NamedOutput[] = [];
  for (const [index, entry] of outputEntries(config).entries()) {
    const where = config.chain ? `/chain/${index}` : '';
    try {
      const module = findOutput(entry.module);
      if (!module) throw new CompileError(`${where}/module: unknown output module ${JSON.stringify(entry.module)}`);
      const output = module.bind(
        { module: entry.module, moduleConfig: entry['module-config'] ?? {}, connection: entry.connection, topic: entry.topic },
        scope,
      );
      bound.push({ module: entry.module, output });
    } catch (err) {
      // Nothing half-built may outlive a failed compile: the previous version stays active instead.
      validator.release();
      void closeAll(bound);
      if (err instanceof OutputConfigError) throw new CompileError(`${where}/module-config: ${err.message}`);
      throw err;
    }
  }
  // An exact-size copy: a pushed-to array keeps spare capacity, which adds up over tens of thousands of webhooks.
  const outputs = bound.slice();
  return new Webhook(namespace, id, config, ctx, checks, validator, outputs, compileDedupe(config, authCtx));
}

/** A class, so that tens of thousands of webhooks share one close() instead of holding one closure each. */
class Webhook implements CompiledWebhook {
  readonly dataType: 'json' | 'blob';
  readonly maxBodyBytes: number;
  readonly headerChecks: readonly RequestCheck[];
  readonly bodyChecks: readonly RequestCheck[];
  readonly credentialHeaders: ReadonlySet<string>;
  readonly validatePayload: CompiledWebhook['validatePayload'];
  readonly deliveryId: DeliveryIdSource;
  readonly execution: Execution;
  readonly connections: readonly string[];

  constructor(
    readonly namespace: string,
    readonly id: string,
    config: WebhookConfig,
    ctx: CompileContext,
    checks: readonly RequestCheck[],
    private readonly validator: PayloadValidator,
    readonly outputs: readonly NamedOutput[],
    readonly dedupe: DeliveryDedupe | undefined,
  ) {
    this.dataType = config.data_type ?? 'json';
    this.maxBodyBytes = config.max_body_bytes ?? ctx.maxBodyBytes;
    this.headerChecks = checks.length === 0 ? NONE : checks.filter((c) => c.phase === 'headers');
    this.bodyChecks = checks.length === 0 ? NONE : checks.filter((c) => c.phase === 'body');
    this.credentialHeaders = credentialHeaders(config);
    this.validatePayload = validator.fn;
    this.deliveryId = deliveryIdSource({ header: config.dedupe?.header, bodyId: config.signature?.scheme === 'stripe' });
    this.execution = config['chain-config']?.execution ?? 'sequential';
    this.connections = dependencies(config);
  }

  async close(): Promise<void> {
    this.validator.release();
    await closeAll(this.outputs);
  }
}
