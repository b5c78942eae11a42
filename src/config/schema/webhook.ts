/**
 * The webhook config schema, assembled from the registries: the fields cwm
 * itself reads (below), one property per request check (src/auth/registry.ts)
 * and, per output module (src/outputs/registry.ts), a rule that validates
 * `module-config` against that module's own schema and requires `connection`
 * when the module sends through one. The build writes it to
 * schema/webhook.schema.json and compiles it to code with ajv filling defaults.
 */
import { stringEnum } from '../../schema-kit.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CHECKS } from '../../auth/registry.js';
import { OUTPUT_MODULES } from '../../outputs/registry.js';
import { credentialCleanupSchema } from '../../delivery/credential-cleanup.js';

const name = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const headerName = Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$" });

/** Every module name and alias. */
const moduleName = Type.Unsafe<string>({ type: 'string', enum: OUTPUT_MODULES.flatMap((m) => [m.name, ...m.aliases]) });

/** The fields of one output (a webhook's own, or one chain entry). */
const outputFields = {
  module: moduleName,
  'module-config': Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  connection: Type.Optional(name),
  topic: Type.Optional(Type.String({ minLength: 1, description: "CWM's top-level topic (kafka, mqtt); module-config.topic wins." })),
  queue_name: Type.Optional(Type.String({ minLength: 1, description: "CWM's top-level queue name (rabbitmq, redis_rq); module-config.queue_name wins." })),
};

/** Where a module's module-config schema and a check's schema live in the published schema's `definitions`. */
const moduleConfigDef = (module: string): string => `module-config-${module}`;
const checkDef = (field: string): string => `check-${field}`;
const ref = (def: string): { $ref: string } => ({ $ref: `#/definitions/${def}` });

/**
 * Per module: module-config against its schema (defaults filled), connection required when it uses one.
 * The module schemas are referenced, not inlined: the webhook's own output and each chain entry share
 * them, and the generated validator is one small function per definition instead of one ~600 KB
 * function that V8 never optimizes (validating 25 000 webhooks: 190 → ~20 ms).
 */
function moduleRules(): { allOf: Record<string, unknown>[] } {
  return {
    allOf: OUTPUT_MODULES.map((m) => ({
      if: { properties: { module: { enum: [m.name, ...m.aliases] } }, required: ['module'] },
      then: {
        properties: { 'module-config': { ...ref(moduleConfigDef(m.name)), default: {} } },
        ...(m.connectionTypes.length > 0 ? { required: ['connection'] } : {}),
      },
    })),
  };
}

/**
 * CWM's retry fields and defaults (seconds, as CWM has them). With a spool
 * (`connection`, else SPOOL_CONNECTION) the webhook answers 202 and workers
 * retry; without one, outputs are attempted again in process within
 * OUTPUT_TIMEOUT_MS. A chain entry's own `retry` is always in process.
 */
const retrySchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    max_attempts: Type.Integer({ minimum: 1, maximum: 20, default: 3 }),
    initial_delay: Type.Number({ minimum: 0, maximum: 60, default: 1 }),
    max_delay: Type.Number({ minimum: 0, maximum: 60, default: 60 }),
    backoff_multiplier: Type.Number({ minimum: 0.1, maximum: 10, default: 2 }),
    connection: Type.Optional({ ...name, description: 'Redis connection of the durable spool; default: SPOOL_CONNECTION.' }),
  },
  { additionalProperties: false },
);

/** A chain entry's retry is always in process, so it names no spool connection. */
const chainRetrySchema = Type.Omit(retrySchema, ['connection'], { additionalProperties: false });

const outputEntry = Type.Object({ ...outputFields, retry: Type.Optional(chainRetrySchema) }, { additionalProperties: false });

const webhookBase = Type.Object(
  {
    data_type: stringEnum(['json', 'blob'] as const, { default: 'json' }),
    module: Type.Optional(outputFields.module),
    'module-config': outputFields['module-config'],
    connection: outputFields.connection,
    topic: outputFields.topic,
    queue_name: outputFields.queue_name,
    chain: Type.Optional(Type.Array(outputEntry, { minItems: 1, maxItems: 20, description: 'entries may also be bare module names, as CWM writes them ("chain": ["log"])' })),
    'chain-config': Type.Object(
      {
        execution: stringEnum(['sequential', 'parallel'] as const, { default: 'sequential' }),
        continue_on_error: Type.Boolean({ default: true, description: 'later entries still run after one failed; the answer is still 503 then' }),
        timeout: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'seconds for the whole chain; only shortens OUTPUT_TIMEOUT_MS' })),
      },
      { additionalProperties: false, default: {} },
    ),
    json_schema: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema the payload must match (422 otherwise).' })),
    trusted_proxies: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 1000,
        description: "CWM's per-webhook proxies (addresses or CIDRs), trusted for this webhook besides TRUSTED_PROXIES: X-Forwarded-For (right-most untrusted hop) or X-Real-IP from them names the client.",
      }),
    ),
    max_body_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 104857600 })),
    retry: Type.Optional(retrySchema),
    credential_cleanup: Type.Optional({ ...credentialCleanupSchema, description: "CWM's credential cleanup of the payload and headers outputs get; off when absent (CWM: on)" }),
    dedupe: Type.Optional(
      Type.Object(
        {
          header: Type.Optional({ ...headerName, description: "Header carrying the delivery id; default: the sender's usual delivery id headers." }),
          ttl_seconds: Type.Integer({ minimum: 1, maximum: 2592000, default: 86400 }),
          connection: name,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** What compile reads of a validated webhook config; check fields are read through their CheckModule. */
export type WebhookConfig = Static<typeof webhookBase>;
export type OutputEntry = Static<typeof outputEntry>;

/** A check's schema that also accepts null ("not configured", as CWM writes it). */
function nullable(schema: TSchema): Record<string, unknown> {
  const type: unknown = schema.type;
  if (typeof type === 'string') return { ...schema, type: [type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

export function webhookSchema(): Record<string, unknown> {
  const rules = moduleRules();
  const properties: Record<string, unknown> = { ...webhookBase.properties };
  const definitions: Record<string, unknown> = { 'chain-entry': { ...outputEntry, ...rules } };
  properties.chain = { ...webhookBase.properties.chain, items: ref('chain-entry') };
  for (const m of OUTPUT_MODULES) definitions[moduleConfigDef(m.name)] = m.schema;
  for (const check of CHECKS) {
    definitions[checkDef(check.field)] = nullable(check.schema);
    properties[check.field] = ref(checkDef(check.field));
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://cwm.dev/schema/webhook.schema.json',
    title: 'cwm webhook config',
    description: 'Value of <prefix><namespace>/webhooks/<id>. Generated from the check and output registries. Unknown fields are rejected so that a misspelt auth field never leaves a webhook open.',
    type: 'object',
    additionalProperties: false,
    properties,
    ...rules,
    oneOf: [
      { required: ['module'], not: { required: ['chain'] } },
      { required: ['chain'], not: { required: ['module'] } },
    ],
    definitions,
  };
}
