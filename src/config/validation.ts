/**
 * Validation against the published JSON Schemas (schema/*.json, compiled to
 * code at build time) and of payloads against a webhook's json_schema, with
 * the one error format used by the manager, the CLI and the HTTP 422 answer:
 * `<json pointer> <message>`, never the offending value.
 */
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { RegExpEngine, RegExpLike } from 'ajv/dist/types/index.js';
import { RE2JS } from 're2js';
import { DraftAjvs, draftOf } from './payload-drafts.js';
import * as schemaValidators from './schema-validators.js';
import type { SchemaValidator } from './schema-validators.js';

export type EntryKind = 'webhook' | 'connection';

const configValidators: Record<EntryKind, SchemaValidator> = schemaValidators;

/** Pointers and property names come from the checked document: a hostile payload must not make the answer huge. */
const MAX_NAME_CHARS = 128;

function clip(text: string): string {
  return text.length <= MAX_NAME_CHARS ? text : `${text.slice(0, MAX_NAME_CHARS)}…`;
}

export function formatErrors(errors: readonly ErrorObject[] | null | undefined, limit = 10): string[] {
  if (!errors) return [];
  if (payloadErrorArrays.has(errors)) return formatPayloadErrors(errors, limit);
  const out: string[] = [];
  for (const e of errors) {
    // An if/then rule's own error only repeats the `then` branch's errors, which are reported themselves.
    if (e.keyword === 'if') continue;
    let msg = `${clip(e.instancePath || '/')} ${e.message ?? 'is invalid'}`;
    if (e.keyword === 'additionalProperties') msg += `: ${clip(String((e.params as { additionalProperty?: string }).additionalProperty))}`;
    if (e.keyword === 'enum') msg += `: ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`;
    if (!out.includes(msg)) out.push(msg);
    if (out.length >= limit) break;
  }
  return out;
}

/** Validates a parsed config against its published schema; returns error lines (empty when valid). */
export function validateConfig(kind: EntryKind, value: unknown): string[] {
  const validate = configValidators[kind];
  return validate(value) ? [] : formatErrors(validate.errors);
}

/**
 * The ajv instances for payload schemas (webhooks' json_schema), with
 * formats, one per JSON Schema draft (`$schema`, src/config/payload-drafts.ts).
 * Built on first use: loading ajv and ajv-formats costs start-up time that configs without a json_schema never need.
 *
 * Every `pattern` and `patternProperties` key is compiled by RE2 (the re2js
 * port: pure JavaScript, no install step, linear time in the input), never by
 * V8's backtracking engine: a team's catastrophic pattern cannot stall the
 * process. A pattern RE2 cannot express (lookaround, backreferences) is
 * refused when the config is compiled, with RE2's reason.
 * `strictNumbers`: NaN and ±Infinity are never numbers.
 */
export class UnsupportedPatternError extends Error {}

/** RE2 in ajv's RegExpEngine shape; `code` is only used by ajv's standalone mode, which payload schemas never use. */
export const re2Engine: RegExpEngine = Object.assign(
  (pattern: string, u: string): RegExpLike => {
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
      // The reason quotes at most the offending construct; clipped so a huge pattern cannot make a huge log line.
      throw new UnsupportedPatternError(`pattern is not supported by the linear-time regex engine (RE2): ${clip(reason)}`);
    }
    // ajv keys its compiled-pattern cache by the regex's toString(): without one every pattern would be
    // "[object Object]", and each schema would test the first pattern any schema compiled (in every draft's instance).
    const key = `/${pattern}/${u}`;
    const like: RegExpLike = { test: (s: string) => compiled.test(s) };
    like.toString = () => key;
    return like;
  },
  { code: 'RE2JS' },
);

/** Compiles one team-configured regex with RE2 (linear time); throws UnsupportedPatternError with a clear reason. */
export function compileLinearRegex(pattern: string): RegExpLike {
  return re2Engine(pattern, 'u');
}

const payloadAjvs = new DraftAjvs({ allErrors: false, strict: false, strictNumbers: true, validateSchema: true, code: { regExp: re2Engine } });
/** Which instance compiled a schema, so that release forgets it there. */
const compiledBy = new WeakMap<object, Ajv>();

/**
 * Payload errors are formatted without any schema parameter (a `required`
 * name, an `enum` value, a `pattern`) and without payload keys: the pointer
 * keeps only array indices and property names the schema itself lists under
 * `properties` (others become `*`), then the failed keyword.
 */
const payloadErrorArrays = new WeakSet<readonly ErrorObject[]>();

function decodeSegment(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function safePointer(e: ErrorObject): string {
  if (!e.instancePath) return '/';
  const named = new Set<string>();
  const schemaParts = e.schemaPath.split('/');
  for (let i = 0; i + 1 < schemaParts.length; i++) {
    if (schemaParts[i] === 'properties') named.add(decodeURIComponent(decodeSegment(schemaParts[i + 1] as string)));
  }
  return e.instancePath
    .split('/')
    .slice(1)
    .map((raw) => {
      const seg = decodeSegment(raw);
      return /^\d{1,9}$/.test(seg) || named.has(seg) ? raw : '*';
    })
    .map((s) => `/${clip(s)}`)
    .join('');
}

function formatPayloadErrors(errors: readonly ErrorObject[], limit: number): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const msg = `${safePointer(e)} fails ${e.keyword}`;
    if (!out.includes(msg)) out.push(msg);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * A schema whose `$ref`s loop back to the same instance without descending
 * (e.g. `anyOf: [{"$ref": "#"}]`) would recurse forever on every request.
 * Found here, at config time: the walk follows only keywords that apply a
 * subschema to the same instance (allOf/anyOf/oneOf/not/if/then/else/$ref and
 * friends) and reports a cycle; local `#...` refs are followed, others are
 * left to the probe below.
 */
const SAME_INSTANCE_ARRAYS = ['allOf', 'anyOf', 'oneOf'] as const;
const SAME_INSTANCE_SINGLE = ['not', 'if', 'then', 'else'] as const;

function resolveLocal(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(decodeSegment(raw));
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function findSameInstanceCycle(root: unknown): boolean {
  const state = new Map<object, 'visiting' | 'done'>();
  const visit = (node: unknown, depth: number): boolean => {
    if (node === null || typeof node !== 'object' || depth > 10_000) return false;
    const seen = state.get(node);
    if (seen === 'visiting') return true;
    if (seen === 'done') return false;
    state.set(node, 'visiting');
    const obj = node as Record<string, unknown>;
    const next: unknown[] = [];
    for (const k of SAME_INSTANCE_ARRAYS) if (Array.isArray(obj[k])) next.push(...(obj[k] as unknown[]));
    for (const k of SAME_INSTANCE_SINGLE) if (Object.hasOwn(obj, k)) next.push(obj[k]);
    if (obj.dependentSchemas && typeof obj.dependentSchemas === 'object') next.push(...Object.values(obj.dependentSchemas));
    for (const k of ['$ref', '$dynamicRef', '$recursiveRef'] as const) if (typeof obj[k] === 'string') next.push(resolveLocal(root, obj[k] as string));
    for (const n of next) if (visit(n, depth + 1)) return true;
    state.set(node, 'done');
    return false;
  };
  return visit(root, 0);
}

/** A few shapes of payload, each validated once at compile time: a schema that throws on them would throw on requests. */
const PROBES: readonly unknown[] = [{}, [], '', 0, null, true];

export function compilePayloadSchema(schema: object): ValidateFunction {
  if (findSameInstanceCycle(schema)) throw new Error('$ref loops back to the same value without descending into it (infinite recursion)');
  const ajv = payloadAjvs.for(draftOf(schema));
  const validate = ajv.compile(schema);
  compiledBy.set(schema, ajv);
  for (const probe of PROBES) {
    try {
      validate(probe);
    } catch (err) {
      ajv.removeSchema(schema);
      throw new Error(`validating a sample payload failed: ${err instanceof RangeError ? 'infinite recursion' : clip((err as Error).message)}`);
    }
  }
  const wrapped = ((data: unknown) => {
    const ok = validate(data);
    wrapped.errors = validate.errors;
    if (validate.errors) payloadErrorArrays.add(validate.errors);
    return ok;
  }) as ValidateFunction;
  Object.assign(wrapped, { schema: validate.schema, schemaEnv: validate.schemaEnv, errors: null });
  return wrapped;
}

/** Forgets a compiled payload schema so that replacing a webhook does not grow ajv's cache forever. */
export function releasePayloadSchema(schema: object): void {
  compiledBy.get(schema)?.removeSchema(schema);
  compiledBy.delete(schema);
}
