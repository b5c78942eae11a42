/**
 * Keeps the README's reference tables in step with what the code accepts:
 * every field of the published JSON Schemas and every environment variable
 * read in src/settings.ts is documented, and nothing documented is made up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, SCHEMA_DIR } from '../../src/paths.js';

type Schema = { $ref?: string; then?: Schema; properties?: Record<string, Schema>; items?: Schema; oneOf?: Schema[]; anyOf?: Schema[]; allOf?: Schema[]; definitions?: Record<string, Schema> };

const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');

function schema(name: string): Schema {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, `${name}.schema.json`), 'utf8')) as Schema;
}

/** Every property path of a schema: `a`, `a.b` for nested objects, `a[].b` inside arrays; $ref and oneOf followed. */
function propertyPaths(root: Schema, followThen = false): Set<string> {
  const paths = new Set<string>();
  const walk = (node: Schema, path: string, seen: readonly Schema[]): void => {
    if (seen.includes(node)) return;
    const next = [...seen, node];
    if (node.$ref) {
      const name = node.$ref.replace('#/definitions/', '');
      const target = root.definitions?.[name];
      assert.ok(target, `unresolved ${node.$ref}`);
      walk(target, path, next);
    }
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const p = path === '' ? key : `${path}.${key}`;
      paths.add(p);
      walk(child, p, next);
    }
    if (node.items) walk(node.items, `${path}[]`, next);
    // A connection type's fields sit in the `then` of its if/then rule; a webhook's module rules hold module-config, documented under outputs.
    if (followThen && node.then) walk(node.then, path, next);
    for (const branch of [...(node.oneOf ?? []), ...(node.anyOf ?? []), ...(node.allOf ?? [])]) walk(branch, path, next);
  };
  walk(root, '', []);
  return paths;
}

/** First-column names (in backticks) of the table between <!-- name:start --> and <!-- name:end -->. */
function documented(section: string): Set<string> {
  const start = readme.indexOf(`<!-- ${section}:start -->`);
  const end = readme.indexOf(`<!-- ${section}:end -->`);
  assert.ok(start !== -1 && end > start, `README has a ${section} table`);
  const names = new Set<string>();
  for (const line of readme.slice(start, end).split('\n')) {
    const m = /^\| `([^`]+)` \|/.exec(line);
    if (m) names.add(m[1] as string);
  }
  assert.ok(names.size > 0, `${section} table has rows`);
  return names;
}

function assertSameSets(actual: Set<string>, expected: Set<string>, what: string): void {
  const missing = [...expected].filter((x) => !actual.has(x)).sort();
  const extra = [...actual].filter((x) => !expected.has(x)).sort();
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${what}: "missing" are undocumented, "extra" are documented but do not exist`);
}

/**
 * Object-valued fields whose every sub-field has its own row are documented
 * through those rows (`basic_auth.username`, not `basic_auth`); free-form
 * objects (`module-config`, `json_schema`) and arrays of objects (`chain`) have rows themselves.
 */
function documentable(paths: Set<string>): Set<string> {
  const hasChildren = (p: string): boolean => [...paths].some((q) => q.startsWith(`${p}.`));
  return new Set([...paths].filter((p) => !hasChildren(p)));
}

test('README webhook reference lists exactly the fields of schema/webhook.schema.json', () => {
  const paths = documentable(propertyPaths(schema('webhook')));
  assert.ok(paths.has('hmac.algorithm') && paths.has('chain[].module') && paths.has('data_type'), 'schema walk reaches nested fields');
  assertSameSets(documented('webhook-reference'), paths, 'webhook fields');
});

test('README connection reference lists exactly the fields of schema/connection.schema.json', () => {
  const paths = documentable(propertyPaths(schema('connection'), true));
  assert.ok(paths.has('bootstrap_servers') && paths.has('sasl.mechanism') && paths.has('db'), 'each type\'s if/then rule is walked');
  assertSameSets(documented('connection-reference'), paths, 'connection fields');
});

test('README environment table lists exactly the variables src/settings.ts reads', () => {
  const source = readFileSync(join(PACKAGE_ROOT, 'src', 'settings.ts'), 'utf8');
  const read = new Set<string>();
  // `env.NAME`, `env['NAME']` and helpers called as `xxxVar(env, 'NAME', ...)` / `optional(env, 'NAME')`.
  for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)|\benv\['([A-Z][A-Z0-9_]*)'\]|\(env, '([A-Z][A-Z0-9_]*)'/g)) read.add((m[1] ?? m[2] ?? m[3]) as string);
  assert.ok(read.has('PORT') && read.has('ETCD_ENDPOINTS') && read.has('CONFIG_BACKEND'), 'the scan finds variables');
  assertSameSets(documented('env'), read, 'environment variables');
});

test('the "two commands" section matches package.json scripts', () => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, 'bash scripts/start.sh');
  assert.equal(pkg.scripts.test, 'bash scripts/test.sh');
  assert.match(readme, /^npm start {3}# /m);
  assert.match(readme, /^npm test {4}# /m);
  assert.match(readme, /`scripts\/start\.sh`/);
  assert.match(readme, /`scripts\/test\.sh`/);
});
