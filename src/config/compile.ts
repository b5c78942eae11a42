/**
 * Turns one validated webhook config into what the request path runs:
 * ajv payload validator, request checks and bound outputs, built once per
 * config change and never per request (the fastify model). Every refusal is
 * a ConfigError carrying the JSON pointer of the bad field.
 */
import type { ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import { CidrError, compileCidrs } from '../auth/cidr.js';
import { clientIpResolver, type ClientIpResolver } from '../auth/client-ip.js';
import { compileDedupe } from '../auth/dedupe.js';
import { CHECKS } from '../auth/registry.js';
import type { CheckContext, CheckModule, CheckPhase, CheckRun, DeliveryDedupe, RequestCheck, SecurityScheme } from '../auth/types.js';
import type { ConnectionLookup } from '../connections/types.js';
import type { Execution, NamedOutput } from '../delivery/deliver.js';
import { deliveryIdSource, type DeliveryIdSource } from '../delivery/delivery-id.js';
import { ConfigError } from '../errors.js';
import { sharedLineLogger } from '../observability/logger.js';
import { findOutput } from '../outputs/registry.js';
import { isSharedOutput, STRICT_OUTPUT_SETTINGS, type BoundOutput, type OutputContext, type OutputSettings } from '../outputs/types.js';
import { retryPolicy, type RetryPolicy } from '../delivery/retry-policy.js';
import { compileCredentialCleanup, type CredentialCleaner } from '../delivery/credential-cleanup.js';
import type { OutputEntry, WebhookConfig } from './schema/webhook.js';
import { SharedValues } from './shared-values.js';
import { compilePayloadSchema, formatErrors, releasePayloadSchema } from './validation.js';

export interface CompiledWebhook {
  readonly namespace: string;
  readonly id: string;
  readonly dataType: 'json' | 'blob';
  readonly maxBodyBytes: number;
  readonly headerChecks: readonly CheckRun[];
  readonly bodyChecks: readonly CheckRun[];
  /** Checks that need the decoded JSON payload; run after decoding, before json_schema. */
  readonly payloadChecks: readonly CheckRun[];
  /** `<phase>:<field>` of every check, in the order they run (shared by webhooks alike). */
  readonly checkOrder: readonly string[];
  /** Lower-case names of headers carrying this webhook's own credentials; stripped before outputs see the headers. */
  readonly credentialHeaders: ReadonlySet<string>;
  /** Error lines (JSON pointers, no values) or null when the payload is valid; null validator when no json_schema. */
  readonly validatePayload: ((payload: unknown) => string[] | null) | null;
  /** The sender's delivery id from headers (or Stripe's body `id`); undefined when the sender gave none. */
  readonly deliveryId: DeliveryIdSource;
  /** Present when `dedupe` is configured: claimed before delivery, committed or released after. */
  readonly dedupe?: DeliveryDedupe;
  readonly outputs: readonly NamedOutput[];
  readonly execution: Execution;
  /** CWM's credential_cleanup, when configured: applied to the payload and headers before outputs see them. */
  readonly cleanCredentials?: CredentialCleaner;
  /** Present when `retry.enabled`: the delivery goes through the durable spool when one is configured (src/delivery/spool.ts). */
  readonly retry?: RetryPolicy;
  /** Every connection this webhook depends on (outputs, checks, dedupe). */
  readonly connections: readonly string[];
  /** Present when the webhook lists its own `trusted_proxies`: the client address as they (and TRUSTED_PROXIES) tell it. */
  readonly clientIp?: ClientIpResolver;
  /** What /openapi.json publishes of it: each credential check as a security scheme (no secrets), and its json_schema. */
  readonly api: WebhookApi;
  close(): Promise<void>;
}

export interface DescribedCheck {
  /** The config field (`hmac`, `header_auth`, ...). */
  readonly field: string;
  readonly scheme: SecurityScheme;
}

export interface WebhookApi {
  readonly security: readonly DescribedCheck[];
  /** The configured json_schema as written (after `{$NAME}` substitution); undefined when none. */
  readonly jsonSchema: Readonly<Record<string, unknown>> | undefined;
  /** Fields of the checks that are not credentials (ip_whitelist, rate_limit): named in the description only. */
  readonly otherChecks: readonly string[];
}

export interface CompileContext {
  readonly logger: Logger;
  readonly connections: ConnectionLookup;
  readonly maxBodyBytes: number;
  /** Operator settings outputs read at bind time; STRICT_OUTPUT_SETTINGS when absent. */
  readonly settings?: OutputSettings;
  /** Injected clock for timestamped signatures; Date.now by default. */
  readonly now?: () => number;
}

function outputEntries(config: WebhookConfig): OutputEntry[] {
  if (config.chain) return config.chain;
  // The schema's oneOf makes `module` present whenever `chain` is not.
  return [{ module: config.module as string, 'module-config': config['module-config'], connection: config.connection, topic: config.topic, queue_name: config.queue_name }];
}

/**
 * What outputs get at bind time. The webhook's pino child is made on first
 * use: with tens of thousands of webhooks, one per webhook at load is a large
 * share of startup time and memory (a class, so the getter costs no per-webhook closure).
 */
class WebhookScope implements OutputContext, CheckContext {
  private child: Logger | undefined;
  readonly now: () => number;

  constructor(private readonly ctx: CompileContext, readonly namespace: string, readonly id: string) {
    this.now = ctx.now ?? Date.now;
  }

  get logger(): Logger {
    return (this.child ??= this.ctx.logger.child({ namespace: this.namespace, webhook_id: this.id }));
  }

  get deliveryLogger(): Logger {
    return sharedLineLogger(this.ctx.logger);
  }

  get connections(): ConnectionLookup {
    return this.ctx.connections;
  }

  get settings(): OutputSettings {
    return this.ctx.settings ?? STRICT_OUTPUT_SETTINGS;
  }
}

type PayloadValidator = { fn: CompiledWebhook['validatePayload']; release: () => void };

/** Shared by every webhook without checks or connections: tens of thousands of empty arrays add up. */
const NONE: readonly never[] = Object.freeze([]);
const NO_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set();
const NO_API: WebhookApi = Object.freeze({ security: NONE, jsonSchema: undefined, otherChecks: NONE });

const NO_VALIDATOR: PayloadValidator = { fn: null, release: () => undefined };

/*
 * Webhooks configured alike share these instead of holding a copy each: with
 * 25 000 webhooks carrying authorization and rate_limit, the per-webhook
 * copies (header set, security description, check-name list, API object,
 * chain settings) were ~0.8 KB of the ~2.4 KB each held (heap snapshot of a
 * loaded process, bench etcd-config).
 */
const sharedHeaderSets = new SharedValues<ReadonlySet<string>>();
const sharedDescriptions = new SharedValues<readonly DescribedCheck[]>();
const sharedNameLists = new SharedValues<readonly string[]>();
/** Keyed by the (shared) description and name list themselves: no key string to build per webhook. */
const sharedApis = new WeakMap<readonly DescribedCheck[], WeakMap<readonly string[], WebhookApi>>();
const sharedExecutions = new SharedValues<Execution>();

function payloadValidator(schema: Record<string, unknown> | undefined): PayloadValidator {
  if (!schema) return NO_VALIDATOR;
  let validate: ValidateFunction;
  try {
    validate = compilePayloadSchema(schema);
  } catch (err) {
    throw new ConfigError('/json_schema', `is not a valid JSON Schema: ${(err as Error).message}`);
  }
  return {
    fn: (payload) => (validate(payload) ? null : formatErrors(validate.errors)),
    release: () => releasePayloadSchema(schema),
  };
}

/** The webhook's own trusted_proxies, trusted together with the operator's TRUSTED_PROXIES (which stand in front of every webhook). */
function webhookClientIp(own: readonly string[] | undefined, operator: readonly string[]): ClientIpResolver | undefined {
  if (own === undefined || own.length === 0) return undefined;
  try {
    compileCidrs(own);
  } catch (err) {
    if (err instanceof CidrError) throw new ConfigError('/trusted_proxies', err.message);
    throw err;
  }
  // TRUSTED_PROXIES was checked at startup; a judge in an environment where it is invalid trusts only the webhook's list.
  let list;
  try {
    list = compileCidrs([...operator, ...own]);
  } catch {
    list = compileCidrs(own);
  }
  return clientIpResolver(list);
}

async function closeAll(outputs: readonly NamedOutput[]): Promise<void> {
  await Promise.allSettled(outputs.map((b) => b.output.close()));
}

/** A check field's value; null and absent both mean "not configured". */
function checkConfig(config: WebhookConfig, check: CheckModule): unknown {
  const value: unknown = Object.hasOwn(config, check.field) ? (config as Record<string, unknown>)[check.field] : undefined;
  return value ?? undefined;
}

const PHASES: readonly CheckPhase[] = ['headers', 'body', 'payload'];

interface CompiledChecks {
  readonly checks: readonly RequestCheck[];
  readonly credentialHeaders: ReadonlySet<string>;
  readonly connections: readonly string[];
  readonly described: readonly DescribedCheck[];
  readonly otherChecks: readonly string[];
}

function compileChecks(config: WebhookConfig, scope: WebhookScope): CompiledChecks {
  const checks: RequestCheck[] = [];
  const credentials: string[] = [];
  const connections: string[] = [];
  const described: DescribedCheck[] = [];
  const otherChecks: string[] = [];
  let latest = 0;
  for (const check of CHECKS) {
    const value = checkConfig(config, check);
    if (value === undefined) continue;
    let run;
    try {
      run = check.compile(value, scope);
    } catch (err) {
      throw err instanceof ConfigError ? err.under(`/${check.field}`) : err;
    }
    // An 'after-auth' check (the rate limit) joins the latest phase of the checks before it.
    const phase = check.phase === 'after-auth' ? (PHASES[latest] as CheckPhase) : check.phase;
    latest = Math.max(latest, PHASES.indexOf(phase));
    checks.push({ name: check.field, phase, run });
    credentials.push(...check.credentialHeaders(value));
    connections.push(...check.connections(value));
    const scheme = check.describe(value);
    if (scheme) described.push({ field: check.field, scheme });
    else otherChecks.push(check.field);
  }
  return {
    checks,
    credentialHeaders: credentials.length === 0 ? NO_CREDENTIAL_HEADERS : sharedHeaderSets.get(JSON.stringify([...new Set(credentials)].sort()), () => new Set(credentials)),
    connections,
    described: described.length === 0 ? NONE : sharedDescriptions.get(JSON.stringify(described), () => described),
    otherChecks: otherChecks.length === 0 ? NONE : sharedNameLists.get(JSON.stringify(otherChecks), () => otherChecks),
  };
}

/**
 * Per shared bound output (the log output, shared by webhooks configured
 * alike): one frozen one-element list, whose record every webhook using that
 * output reuses, and the list itself when it is a webhook's only output (~90 bytes a webhook).
 */
const soleLists = new WeakMap<BoundOutput, readonly NamedOutput[]>();

function namedOutput(module: string, output: BoundOutput): NamedOutput {
  if (!isSharedOutput(output)) return { module, output };
  const list = soleLists.get(output);
  const known = list?.[0];
  if (known !== undefined && known.module === module) return known;
  const named = { module, output };
  if (list === undefined) soleLists.set(output, Object.freeze([named]));
  return named;
}

function bindOutputs(config: WebhookConfig, scope: WebhookScope): readonly NamedOutput[] {
  const bound: NamedOutput[] = [];
  for (const [index, entry] of outputEntries(config).entries()) {
    const where = config.chain ? `/chain/${index}` : '';
    try {
      const module = findOutput(entry.module);
      // The schema's module enum is built from the same registry.
      if (!module) throw new ConfigError('/module', `unknown output module ${JSON.stringify(entry.module)}`);
      const spec = { module: entry.module, connection: entry.connection ?? '', topic: entry.topic, queueName: entry.queue_name };
      const output = module.bind(entry['module-config'], spec, scope);
      bound.push(entry.retry?.enabled ? { module: entry.module, output, retry: retryPolicy(entry.retry) } : namedOutput(entry.module, output));
    } catch (err) {
      // Nothing half-built may outlive a failed compile: the previous version stays active instead.
      void closeAll(bound);
      throw err instanceof ConfigError ? err.under(where) : err;
    }
  }
  const only = bound[0];
  // A webhook whose one output is shared (log outputs with the same switches) shares the list too.
  const sole = bound.length === 1 && only !== undefined ? soleLists.get(only.output) : undefined;
  if (sole !== undefined && sole[0] === only) return sole;
  // An exact-size copy: a pushed-to array keeps spare capacity, which adds up over tens of thousands of webhooks.
  return bound.slice();
}

/** `config` has passed the webhook schema (defaults filled in). Throws ConfigError; anything else is a bug. */
export function compileWebhook(namespace: string, id: string, config: WebhookConfig, ctx: CompileContext): CompiledWebhook {
  const scope = new WebhookScope(ctx, namespace, id);
  // Checks first: they bind nothing, so a bad check field fails before any output was bound.
  const checks = compileChecks(config, scope);
  const clientIp = webhookClientIp(config.trusted_proxies, scope.settings.trustedProxies);
  const validator = payloadValidator(config.json_schema);
  let outputs: readonly NamedOutput[];
  try {
    outputs = bindOutputs(config, scope);
  } catch (err) {
    validator.release();
    throw err;
  }
  const dedupe = config.dedupe ? compileDedupe(config.dedupe, scope) : undefined;
  return new Webhook(scope, config, ctx, checks, validator, outputs, dedupe, clientIp);
}

function dependencies(config: WebhookConfig, checks: CompiledChecks): readonly string[] {
  const names = outputEntries(config).flatMap((e) => (e.connection ? [e.connection] : []));
  names.push(...checks.connections);
  if (config.dedupe) names.push(config.dedupe.connection);
  return names.length === 0 ? NONE : [...new Set(names)];
}

function checkOrderOf(checks: readonly RequestCheck[]): readonly string[] {
  if (checks.length === 0) return NONE;
  const order = PHASES.flatMap((phase) => checks.filter((c) => c.phase === phase).map((c) => `${phase}:${c.name}`));
  return sharedNameLists.get(order.join(' '), () => order);
}

/** The runs of one phase, in order: the webhook keeps the functions only (no record per check: ~100 bytes a webhook with two checks). */
function inPhase(checks: readonly RequestCheck[], phase: CheckPhase): readonly CheckRun[] {
  if (!checks.some((c) => c.phase === phase)) return NONE;
  // slice(): an exact-size copy (filter's result keeps spare capacity).
  return checks.filter((c) => c.phase === phase).map((c) => c.run).slice();
}

function executionOf(chain: WebhookConfig['chain-config'], retry: RetryPolicy | undefined): Execution {
  const timeoutMs = chain.timeout === undefined ? undefined : Math.round(chain.timeout * 1000);
  // Without a spool the handler retries in process; the spool's workers ignore this (they retry durably).
  const make = (): Execution => ({ mode: chain.execution, continueOnError: chain.continue_on_error, timeoutMs, retry });
  return retry ? make() : sharedExecutions.get(JSON.stringify([chain.execution, chain.continue_on_error, timeoutMs]), make);
}

function apiOf(checks: CompiledChecks, jsonSchema: WebhookConfig['json_schema']): WebhookApi {
  if (checks.described.length === 0 && checks.otherChecks.length === 0 && !jsonSchema) return NO_API;
  if (jsonSchema) return { security: checks.described, jsonSchema, otherChecks: checks.otherChecks };
  let byOthers = sharedApis.get(checks.described);
  if (!byOthers) sharedApis.set(checks.described, (byOthers = new WeakMap()));
  let api = byOthers.get(checks.otherChecks);
  if (!api) byOthers.set(checks.otherChecks, (api = { security: checks.described, jsonSchema: undefined, otherChecks: checks.otherChecks }));
  return api;
}

/** A class, so that tens of thousands of webhooks share one close() instead of holding one closure each. */
class Webhook implements CompiledWebhook {
  readonly namespace: string;
  readonly id: string;
  readonly dataType: 'json' | 'blob';
  readonly maxBodyBytes: number;
  readonly headerChecks: readonly CheckRun[];
  readonly bodyChecks: readonly CheckRun[];
  readonly payloadChecks: readonly CheckRun[];
  readonly checkOrder: readonly string[];
  readonly credentialHeaders: ReadonlySet<string>;
  readonly validatePayload: CompiledWebhook['validatePayload'];
  readonly deliveryId: DeliveryIdSource;
  readonly execution: Execution;
  readonly cleanCredentials: CredentialCleaner | undefined;
  readonly retry: RetryPolicy | undefined;
  readonly connections: readonly string[];
  readonly api: WebhookApi;

  constructor(
    scope: WebhookScope,
    config: WebhookConfig,
    ctx: CompileContext,
    checks: CompiledChecks,
    private readonly validator: PayloadValidator,
    readonly outputs: readonly NamedOutput[],
    readonly dedupe: DeliveryDedupe | undefined,
    readonly clientIp: ClientIpResolver | undefined,
  ) {
    this.namespace = scope.namespace;
    this.id = scope.id;
    this.dataType = config.data_type;
    this.maxBodyBytes = config.max_body_bytes ?? ctx.maxBodyBytes;
    this.headerChecks = inPhase(checks.checks, 'headers');
    this.bodyChecks = inPhase(checks.checks, 'body');
    this.payloadChecks = inPhase(checks.checks, 'payload');
    this.checkOrder = checkOrderOf(checks.checks);
    this.credentialHeaders = checks.credentialHeaders;
    this.validatePayload = validator.fn;
    const signature = config as { signature?: { scheme?: string } };
    this.deliveryId = deliveryIdSource({ header: config.dedupe?.header, bodyId: signature.signature?.scheme === 'stripe' });
    this.retry = config.retry?.enabled ? retryPolicy(config.retry) : undefined;
    this.cleanCredentials = config.credential_cleanup ? compileCredentialCleanup(config.credential_cleanup) : undefined;
    this.execution = executionOf(config['chain-config'], this.retry);
    this.connections = dependencies(config, checks);
    this.api = apiOf(checks, config.json_schema);
  }

  async close(): Promise<void> {
    this.validator.release();
    await closeAll(this.outputs);
  }
}
