/**
 * The published JSON Schemas (schema/*.json), compiled once with ajv, and the
 * one error format used by the manager, the CLI and the HTTP 422 answer:
 * `<json pointer> <message>`, never the offending value.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SCHEMA_DIR } from '../paths.js';

type AddFormats = (ajv: Ajv) => Ajv;

export type EntryKind = 'webhook' | 'connection';

function loadSchema(kind: EntryKind): object {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, `${kind}.schema.json`), 'utf8')) as object;
}

const configAjv = new Ajv({ allErrors: true, strict: false });
const configValidators: Record<EntryKind, ValidateFunction> = {
  webhook: configAjv.compile(loadSchema('webhook')),
  connection: configAjv.compile(loadSchema('connection')),
};

/** Pointers and property names come from the checked document: a hostile payload must not make the answer huge. */
const MAX_NAME_CHARS = 128;

function clip(text: string): string {
  return text.length <= MAX_NAME_CHARS ? text : `${text.slice(0, MAX_NAME_CHARS)}…`;
}

export function formatErrors(errors: readonly ErrorObject[] | null | undefined, limit = 10): string[] {
  if (!errors) return [];
  const out: string[] = [];
  for (const e of errors) {
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
 * Payload schemas (a webhook's json_schema) get their own ajv so user schemas cannot clash with ours by $id.
 * Built on first use: adding the formats costs start-up time that configs without a json_schema never need.
 */
let payloadAjv: Ajv | undefined;

function getPayloadAjv(): Ajv {
  if (payloadAjv) return payloadAjv;
  // ajv-formats (CJS, module.exports is the plugin) is required only here: loading it costs start-up time.
  const addFormats = createRequire(import.meta.url)('ajv-formats') as AddFormats;
  payloadAjv = addFormats(new Ajv({ allErrors: false, strict: false, validateSchema: true }));
  return payloadAjv;
}

export function compilePayloadSchema(schema: object): ValidateFunction {
  return getPayloadAjv().compile(schema);
}

/** Forgets a compiled payload schema so that replacing a webhook does not grow ajv's cache forever. */
export function releasePayloadSchema(schema: object): void {
  payloadAjv?.removeSchema(schema);
}
