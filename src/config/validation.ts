/**
 * Validation against the published JSON Schemas (schema/*.json, compiled to
 * code at build time) and of payloads against a webhook's json_schema, with
 * the one error format used by the manager, the CLI and the HTTP 422 answer:
 * `<json pointer> <message>`, never the offending value.
 */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
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
 * The ajv instance for payload schemas (webhooks' json_schema), with formats.
 * Built on first use: loading ajv and ajv-formats costs start-up time that configs without a json_schema never need.
 */
let payloadAjv: Ajv | undefined;

function getPayloadAjv(): Ajv {
  if (payloadAjv) return payloadAjv;
  const require = createRequire(import.meta.url);
  // ajv's CommonJS exports carry the same named `Ajv` class as its ESM types describe.
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
  payloadAjv = addFormats(new AjvClass({ allErrors: false, strict: false, validateSchema: true }));
  return payloadAjv;
}

export function compilePayloadSchema(schema: object): ValidateFunction {
  return getPayloadAjv().compile(schema);
}

/** Forgets a compiled payload schema so that replacing a webhook does not grow ajv's cache forever. */
export function releasePayloadSchema(schema: object): void {
  payloadAjv?.removeSchema(schema);
}
