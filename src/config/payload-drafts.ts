/**
 * Which JSON Schema draft a payload `json_schema` is written in, chosen by its
 * `$schema` (none: draft-07, as before), and one ajv instance per draft, made
 * on first use with the same options (RE2 patterns, formats, strict numbers):
 * draft-04 (ajv-draft-04), draft-06 (ajv with the draft-06 meta-schema),
 * draft-07 (ajv), 2019-09 (Ajv2019) and 2020-12 (Ajv2020). An unknown
 * `$schema` is refused rather than validated under another draft's rules.
 */
import { createRequire } from 'node:module';
import type { Ajv, Options } from 'ajv';

export type Draft = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

const DRAFT_URIS: ReadonlyMap<string, Draft> = new Map([
  ['json-schema.org/draft-04/schema', 'draft-04'],
  ['json-schema.org/draft-06/schema', 'draft-06'],
  ['json-schema.org/draft-07/schema', 'draft-07'],
  ['json-schema.org/draft/2019-09/schema', '2019-09'],
  ['json-schema.org/draft/2020-12/schema', '2020-12'],
]);

export class UnknownDraftError extends Error {}

/** The draft `schema` declares; http and https, with or without the empty fragment, name the same draft. */
export function draftOf(schema: object): Draft {
  if (!Object.hasOwn(schema, '$schema')) return 'draft-07';
  const uri: unknown = (schema as { $schema?: unknown }).$schema;
  const key = typeof uri === 'string' ? uri.replace(/^https?:\/\//, '').replace(/#$/, '') : undefined;
  const draft = key === undefined ? undefined : DRAFT_URIS.get(key);
  if (draft === undefined) throw new UnknownDraftError(`$schema must name JSON Schema draft-04, draft-06, draft-07, 2019-09 or 2020-12 (json-schema.org URIs); got ${typeof uri === 'string' ? `${JSON.stringify(uri.slice(0, 100))}` : typeof uri}`);
  return draft;
}

type AjvClass = new (options: Options) => Ajv;

/** One ajv per draft, built with `options` and formats when a schema of that draft first needs it. */
export class DraftAjvs {
  private readonly made = new Map<Draft, Ajv>();
  private readonly require = createRequire(import.meta.url);

  constructor(private readonly options: Options) {}

  for(draft: Draft): Ajv {
    const existing = this.made.get(draft);
    if (existing) return existing;
    const ajv = this.make(draft);
    const addFormats = this.require('ajv-formats') as (a: Ajv) => Ajv;
    addFormats(ajv);
    this.made.set(draft, ajv);
    return ajv;
  }

  private make(draft: Draft): Ajv {
    // ajv's CommonJS exports carry the classes its ESM types describe.
    switch (draft) {
      case 'draft-04':
        return new (this.require('ajv-draft-04') as AjvClass)(this.options);
      case '2019-09':
        return new (this.require('ajv/dist/2019') as { Ajv2019: AjvClass }).Ajv2019(this.options);
      case '2020-12':
        return new (this.require('ajv/dist/2020') as { Ajv2020: AjvClass }).Ajv2020(this.options);
      case 'draft-06': {
        const ajv = new (this.require('ajv') as { Ajv: AjvClass }).Ajv(this.options);
        ajv.addMetaSchema(this.require('ajv/dist/refs/json-schema-draft-06.json') as object);
        return ajv;
      }
      case 'draft-07':
        return new (this.require('ajv') as { Ajv: AjvClass }).Ajv(this.options);
    }
  }

  /** Every instance made so far (to forget a schema in whichever compiled it). */
  instances(): Iterable<Ajv> {
    return this.made.values();
  }
}
