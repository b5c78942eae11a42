/**
 * /openapi.json from the live configuration: one POST operation per active
 * webhook (`/webhook/<id>` in ETCD_NAMESPACE, `/webhook/<namespace>/<id>`
 * elsewhere), its credential checks as securitySchemes (all required
 * together), its json_schema as the request body schema. Built per request
 * from the compiled webhooks, so it follows every config change. Only what
 * the checks' `describe` publishes goes in: header and parameter names,
 * algorithms — never tokens, secrets, usernames, introspection URLs or
 * connections.
 */
import type { SecurityScheme } from '../auth/types.js';
import type { CompiledWebhook } from '../config/compile.js';

type Json = Readonly<Record<string, unknown>>;

const ERROR: Json = { type: 'object', required: ['status', 'error'], properties: { status: { const: 'error' }, error: { type: 'string' }, details: { type: 'array', items: { type: 'string' } } } };
const ACCEPTED: Json = { type: 'object', required: ['status', 'delivery_id'], properties: { status: { enum: ['accepted', 'queued'] }, delivery_id: { type: 'string' }, spool_id: { type: 'string' }, duplicate: { type: 'boolean' } } };
const errorResponse = (description: string): Json => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const acceptedResponse = (description: string): Json => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } } });

/** The answers of README's status table, defined once and referenced by each operation (the document stays small). */
const RESPONSES: Readonly<Record<string, Json>> = {
  Accepted: acceptedResponse('delivered to every output'),
  Queued: acceptedResponse('durably queued (retry.enabled with a spool)'),
  BadRequest: errorResponse('body is not valid JSON / UTF-8, or nested too deep'),
  Unauthorized: errorResponse('credentials or signature missing, wrong or stale'),
  Forbidden: errorResponse('client IP not allowed'),
  NotFound: errorResponse('no such webhook'),
  TooLarge: errorResponse('body larger than the limit'),
  UnsupportedType: errorResponse('declared content type is neither JSON nor a form'),
  Unprocessable: errorResponse('payload does not match the json_schema'),
  RateLimited: errorResponse('rate limit exceeded (Retry-After)'),
  Unavailable: errorResponse('an output failed or timed out; retry (Retry-After)'),
};
const ref = (name: keyof typeof RESPONSES & string): Json => ({ $ref: `#/components/responses/${name}` });

/** Names components.securitySchemes: the check's field, then `_2`, `_3` ... when webhooks configure it differently. */
class SchemeNames {
  private readonly byName = new Map<string, string>();
  readonly schemes = new Map<string, SecurityScheme>();

  nameFor(field: string, scheme: SecurityScheme): string {
    const text = JSON.stringify(scheme);
    for (let n = 1; ; n++) {
      const name = n === 1 ? field : `${field}_${n}`;
      const taken = this.byName.get(name);
      if (taken === undefined) {
        this.byName.set(name, text);
        this.schemes.set(name, scheme);
        return name;
      }
      if (taken === text) return name;
    }
  }
}

function requestBody(hook: CompiledWebhook): Json {
  if (hook.dataType === 'blob') return { required: true, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } };
  const schema = hook.api.jsonSchema ?? {};
  // A form body is parsed into an object and judged by the same schema.
  return { required: true, content: { 'application/json': { schema }, 'application/x-www-form-urlencoded': { schema } } };
}

function operation(hook: CompiledWebhook, names: SchemeNames): Json {
  const responses: Record<string, Json> = { '200': ref('Accepted'), '400': ref('BadRequest'), '404': ref('NotFound'), '413': ref('TooLarge'), '503': ref('Unavailable') };
  if (hook.retry) responses['202'] = ref('Queued');
  if (hook.api.security.length > 0) responses['401'] = ref('Unauthorized');
  if (hook.api.otherChecks.includes('ip_whitelist')) responses['403'] = ref('Forbidden');
  if (hook.dataType === 'json') responses['415'] = ref('UnsupportedType');
  if (hook.api.jsonSchema) responses['422'] = ref('Unprocessable');
  if (hook.api.otherChecks.includes('rate_limit')) responses['429'] = ref('RateLimited');
  const requirement: Record<string, string[]> = {};
  for (const d of hook.api.security) requirement[names.nameFor(d.field, d.scheme)] = [];
  const checks = [...hook.api.security.map((d) => d.field), ...hook.api.otherChecks];
  return {
    operationId: `${hook.namespace}.${hook.id}`,
    tags: [hook.namespace],
    summary: `webhook ${hook.namespace}/${hook.id}`,
    description: `outputs: ${hook.outputs.map((o) => o.module).join(', ')}${checks.length > 0 ? `; checks: ${checks.join(', ')}` : ''}`,
    // One requirement object: every configured check must pass (an empty list: no credentials).
    security: hook.api.security.length > 0 ? [requirement] : [],
    requestBody: requestBody(hook),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
  };
}

export function webhookPath(hook: CompiledWebhook, defaultNamespace: string): string {
  return hook.namespace === defaultNamespace ? `/webhook/${hook.id}` : `/webhook/${hook.namespace}/${hook.id}`;
}

export function buildOpenApi(webhooks: Iterable<CompiledWebhook>, defaultNamespace: string): Json {
  const hooks = [...webhooks].sort((a, b) => (a.namespace === b.namespace ? (a.id < b.id ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
  const names = new SchemeNames();
  // fromEntries defines own properties: a webhook named __proto__ is an ordinary path.
  const paths = Object.fromEntries(hooks.map((h) => [webhookPath(h, defaultNamespace), { post: operation(h, names) }]));
  return {
    openapi: '3.1.0',
    info: { title: 'cwm webhooks', version: '1', description: 'The webhooks this cwm instance serves right now, generated from its live configuration.' },
    paths,
    components: { schemas: { Accepted: ACCEPTED, Error: ERROR }, responses: RESPONSES, securitySchemes: Object.fromEntries(names.schemes) },
  };
}
