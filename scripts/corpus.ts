/**
 * `npm run corpus`: runs every config in CWM's own corpus (test/data/cwm-corpus,
 * collected from CWM's repository: examples, docs, tests) through the
 * receiver's judge and prints the accepted share with refusals grouped by
 * reason. test/unit/cwm-corpus.test.ts asserts the share never falls below
 * the recorded figure, so it only ratchets up.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findVaultReferences } from '../src/config/env-substitution.js';
import { judgeConfig } from '../src/config/judge.js';
import { loadSettings } from '../src/settings.js';
import type { EntryKind } from '../src/config/validation.js';

const CORPUS_DIR = join(import.meta.dirname, '..', '..', 'test', 'data', 'cwm-corpus');

export interface KindFigures {
  readonly total: number;
  readonly accepted: number;
  /** Refusal reason (values and entry names stripped) → how many entries it refused. */
  readonly reasons: ReadonlyMap<string, number>;
  readonly refused: readonly { name: string; errors: readonly string[] }[];
  /** Entries using CWM's webhook_connect relay, which the migration issue puts out of scope: not in `total`. */
  readonly outOfScope: number;
}

/** CWM's webhook_connect relay (a module of its own cloud product) is out of scope for the migration share. */
function usesWebhookConnect(config: unknown): boolean {
  if (config === null || typeof config !== 'object') return false;
  const c = config as { module?: unknown; chain?: unknown };
  if (c.module === 'webhook_connect') return true;
  return Array.isArray(c.chain) && c.chain.some((e: unknown) => e === 'webhook_connect' || (e !== null && typeof e === 'object' && (e as { module?: unknown }).module === 'webhook_connect'));
}

/**
 * One reason per error line, with what varies between entries taken out: the
 * pointer's array indexes and the quoted values, so that "module must be one
 * of …" groups every unknown module together.
 */
export function reasonOf(line: string): string {
  return line
    .replace(/\/\d+(?=\/|\s|:|$)/g, '/N')
    .replace(/environment variable [A-Za-z0-9_]+/g, 'environment variable X')
    .replace(/"[^"]*"/g, '"…"');
}

/** A value of the shape the name suggests (ports are numbers, URLs are URLs); secrets long enough for any minimum length. */
function representative(name: string): string {
  const upper = name.toUpperCase();
  if (upper.endsWith('PORT')) return '6379';
  if (upper.includes('URL') || upper.includes('ENDPOINT')) return 'https://corpus.example/';
  if (upper.endsWith('HOST')) return 'corpus.example';
  return 'corpus-placeholder-value-0123456789abcdef';
}

/** The variables cwm's own settings read (recorded by reading them once): those keep cwm's defaults, not placeholder values. */
const settingNames = new Set<string>();
loadSettings(new Proxy<Record<string, string | undefined>>({}, { get: (_target, name) => void (typeof name === 'string' && settingNames.add(name)) }));
/**
 * An operator migrating save_to_disk webhooks sets its root, and names the
 * connection of each type that CWM's connection-less configs fall back to
 * (CWM used localhost or failed every request there; see DEFAULT_CONNECTIONS).
 */
export const OPERATOR_SETTINGS: Readonly<Record<string, string>> = {
  SAVE_TO_DISK_BASE_DIR: '/var/lib/cwm',
  DEFAULT_CONNECTIONS: 'redis=redis_main,postgresql=postgres_main,mysql=mysql_main,rabbitmq=rabbitmq_main,kafka=kafka_main,s3=s3_main,clickhouse=clickhouse_main',
};

const PLACEHOLDER = /\{\$([A-Za-z_][A-Za-z0-9_]*)(:?)/g;

/**
 * Names every placeholder of `config` writes with a default
 * (`{$RECAPTCHA_MIN_SCORE:0.5}`): those are left unset, so the default the
 * config's author wrote is what gets judged, as on a receiver where the
 * operator did not set them. A name also written without a default somewhere
 * in the same config gets a representative value everywhere.
 */
function defaultedNames(config: unknown): ReadonlySet<string> {
  const withDefault = new Set<string>();
  const without = new Set<string>();
  for (const [, name, colon] of JSON.stringify(config).matchAll(PLACEHOLDER)) (colon === ':' ? withDefault : without).add(name as string);
  for (const name of without) withDefault.delete(name);
  return withDefault;
}

function representativeEnv(config: unknown): Record<string, string | undefined> {
  const unset = defaultedNames(config);
  return new Proxy<Record<string, string | undefined>>({}, {
    get: (_target, name) => {
      if (typeof name !== 'string') return undefined;
      if (settingNames.has(name)) return OPERATOR_SETTINGS[name];
      return unset.has(name) ? undefined : representative(name);
    },
  });
}

/**
 * An operator migrating configs with `{$vault:path#field}` points cwm at the
 * Vault holding them: every reference reads a representative value (named
 * after its field, as environment names are), so the config is what is judged.
 */
function representativeVault(config: unknown): ReadonlyMap<string, string> {
  return new Map(findVaultReferences(config).map((r) => [r.inside, representative(r.inside.split('#')[1]?.split(':')[0] ?? '')]));
}

export function judgeCorpus(kind: EntryKind): KindFigures {
  const file = kind === 'webhook' ? 'webhooks.json' : 'connections.json';
  const entries = Object.entries(JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as Record<string, unknown>);
  // CWM fills any {$NAME} from its environment; an operator migrating widens
  // CONFIG_ENV_ALLOWLIST to its names and sets them. So every name is allowed
  // here and every name is "set" to a representative value, so that what gets
  // judged is the config, not this machine's environment (defaults the
  // config writes are kept: see defaultedNames).
  const envAllowlist = /^[A-Za-z_][A-Za-z0-9_]*$/;
  const reasons = new Map<string, number>();
  const refused: { name: string; errors: readonly string[] }[] = [];
  let accepted = 0;
  let outOfScope = 0;
  for (const [name, config] of entries) {
    if (usesWebhookConnect(config)) {
      outOfScope++;
      continue;
    }
    const errors = judgeConfig(kind, config, { envAllowlist, env: representativeEnv(config), vault: representativeVault(config) });
    if (errors.length === 0) {
      accepted++;
      continue;
    }
    refused.push({ name, errors });
    for (const reason of new Set(errors.map(reasonOf))) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return { total: entries.length - outOfScope, accepted, reasons, refused, outOfScope };
}

export function share(f: KindFigures): number {
  return f.total === 0 ? 0 : f.accepted / f.total;
}

export function formatFigures(label: string, f: KindFigures, verbose = false): string {
  const lines = [`${label}: ${f.accepted}/${f.total} accepted (${(100 * share(f)).toFixed(1)}%)${f.outOfScope > 0 ? `; ${f.outOfScope} using CWM's webhook_connect relay left out (out of scope)` : ''}`];
  for (const [reason, count] of [...f.reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) lines.push(`  ${String(count).padStart(4)}  ${reason}`);
  if (verbose) for (const r of f.refused) lines.push(`  - ${r.name}: ${r.errors.join(' | ')}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const verbose = process.argv.includes('--verbose');
  process.stdout.write(`${formatFigures('webhooks', judgeCorpus('webhook'), verbose)}\n${formatFigures('connections', judgeCorpus('connection'), verbose)}\n`);
}
