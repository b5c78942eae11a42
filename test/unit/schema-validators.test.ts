/** The validators generated at build time are the published schemas as ajv compiles them, not a stale copy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { CONFIG_AJV_OPTIONS } from '../../src/config/schema/ajv-options.js';
import { GENERATED_PATH, schemaTexts, validatorSource } from '../../scripts/generate-validators.js';
import { SCHEMA_DIR } from '../../src/paths.js';
import { formatErrors, validateConfig, type EntryKind } from '../../src/config/validation.js';

test('the generated validator module is what the current schema files generate', () => {
  assert.equal(readFileSync(GENERATED_PATH, 'utf8'), validatorSource(), 'run `npm run build` after changing a registry');
});

test('the published schema files are what the registries assemble (commit them after `npm run build`)', () => {
  for (const [kind, text] of Object.entries(schemaTexts())) assert.equal(readFileSync(join(SCHEMA_DIR, `${kind}.schema.json`), 'utf8'), text, kind);
});

test('generated validators answer exactly as ajv compiling the schema at run time', () => {
  const ajv = new Ajv({ ...CONFIG_AJV_OPTIONS });
  const samples: Record<EntryKind, unknown[]> = {
    webhook: [{ module: 'log' }, { module: 'nope' }, { chain: [] }, { module: 'log', chain: [{ module: 'log' }] }, { module: 'log', extra: 1, hmac: { secret: [] } }, null, [], 'x'],
    connection: [{ type: 'redis', url: 'redis://x' }, { type: 'kafka' }, { type: 'redis', port: 0, tls: 'yes' }, {}, 7],
  };
  for (const kind of ['webhook', 'connection'] as const) {
    const runtime = ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, `${kind}.schema.json`), 'utf8')) as object);
    for (const sample of samples[kind]) {
      // Each side fills defaults into its own copy.
      const expected = runtime(structuredClone(sample)) ? [] : formatErrors(runtime.errors);
      assert.deepEqual(validateConfig(kind, structuredClone(sample)), expected, `${kind} ${JSON.stringify(sample)}`);
    }
  }
});
