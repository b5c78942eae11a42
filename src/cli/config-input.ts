/**
 * Parsing and checking config documents for validate/put/import: the same
 * published schema the receiver applies, plus the checks the receiver would
 * otherwise only hit at compile time (a json_schema ajv cannot compile).
 */
import { describeJsonError } from '../config/json-error.js';
import { cwmDifferences } from '../config/cwm-differences.js';
import { judgeConfig } from '../config/judge.js';
import { isCommentEntry, isValidName } from '../config/keys.js';
import type { EntryKind } from '../config/validation.js';
import { loadSettings, vaultSettings } from '../settings.js';
import { VaultUnavailableError } from '../vault/client.js';
import { createVaultSecrets, readVaultValues, type VaultSecrets } from '../vault/read-secrets.js';
import { ConfigError } from '../errors.js';

export interface Problem {
  /** What was checked: a file, "stdin", or file#name. */
  readonly source: string;
  /** JSON-pointer error lines, as the receiver logs them. */
  readonly errors: readonly string[];
}

export function parseJson(text: string, source: string): { value?: unknown; problem?: Problem } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    // The receiver's safe message: JSON.parse's own quotes the text, which may hold secrets.
    return { problem: { source, errors: [`/ not valid JSON: ${describeJsonError(e)}`] } };
  }
}

let allowlist: RegExp | undefined;
let vault: { secrets: VaultSecrets | undefined } | undefined;

/** The CLI's Vault, from its own environment (VAULT_*), as the receiver has its own. */
function cliVault(): VaultSecrets | undefined {
  if (!vault) {
    const settings = vaultSettings();
    vault = { secrets: settings ? createVaultSecrets(settings) : undefined };
  }
  return vault.secrets;
}

/**
 * The values of `value`'s `{$vault:…}` references, read from the Vault in
 * this environment; error lines when they cannot be read (never the values).
 */
export async function readCliVaultValues(value: unknown): Promise<{ vault?: ReadonlyMap<string, string>; errors: string[] }> {
  try {
    return { vault: await readVaultValues(value, cliVault()), errors: [] };
  } catch (err) {
    if (err instanceof ConfigError) return { errors: [err.message] };
    if (err instanceof VaultUnavailableError) return { errors: [`/ ${err.message}`] };
    throw err;
  }
}

/**
 * Error lines for one config value (empty when the receiver would accept it):
 * the receiver's own prepare and compile steps (src/config/judge.ts).
 * `{$NAME}` placeholders are filled from this process's environment, under
 * CONFIG_ENV_ALLOWLIST, exactly as the receiver fills them from its own: a
 * placeholder that is unset and has no default is an error here as it would
 * be there. `{$vault:…}` references are read from the Vault this environment
 * configures (VAULT_*), and refused without one, as the receiver does. What
 * gets written stays unsubstituted.
 */
export async function checkConfig(kind: EntryKind, value: unknown): Promise<string[]> {
  allowlist ??= loadSettings().configEnvAllowlist;
  const { vault: values, errors } = await readCliVaultValues(value);
  if (errors.length > 0) return errors;
  return judgeConfig(kind, value, { envAllowlist: allowlist, env: process.env, vault: values });
}

export type Verdict = 'accepted' | 'accepted-with-changes' | 'refused';

export interface EntryVerdict {
  /** file#name */
  readonly source: string;
  readonly verdict: Verdict;
  /** refused: the error lines (JSON pointers first); accepted-with-changes: what differs from CWM, pointer first. */
  readonly lines: readonly string[];
}

const NAME_RULE_ERROR = 'name must match ^[A-Za-z0-9_-]{1,64}$';

/**
 * Judges every entry of a `{ "<name>": config }` document (webhooks.json /
 * connections.json) with the receiver's own prepare and compile, and says for
 * the accepted ones what behaves differently from CWM. CWM's `_comment`
 * notes are skipped, as the file backend skips them. Undefined: the document
 * is not an object keyed by name.
 */
export async function judgeMany(kind: EntryKind, value: unknown, source: string): Promise<EntryVerdict[] | undefined> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const verdicts: EntryVerdict[] = [];
  for (const [name, config] of Object.entries(value)) {
    if (isCommentEntry(name, config)) continue;
    const where = `${source}#${name}`;
    const errors = isValidName(name) ? await checkConfig(kind, config) : [NAME_RULE_ERROR];
    if (errors.length > 0) verdicts.push({ source: where, verdict: 'refused', lines: errors });
    else {
      const changes = cwmDifferences(kind, config).map((d) => `${d.pointer || '/'} ${d.note}`);
      verdicts.push({ source: where, verdict: changes.length > 0 ? 'accepted-with-changes' : 'accepted', lines: changes });
    }
  }
  return verdicts;
}

/** The refusals of judgeMany, as problems (import and export restore use this). */
export async function checkMany(kind: EntryKind, value: unknown, source: string): Promise<Problem[]> {
  const verdicts = await judgeMany(kind, value, source);
  if (verdicts === undefined) return [{ source, errors: ['/ must be a JSON object keyed by name'] }];
  return verdicts.filter((v) => v.verdict === 'refused').map((v) => ({ source: v.source, errors: v.lines }));
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.source}: invalid\n${p.errors.map((e) => `  ${e}`).join('\n')}`).join('\n');
}

export function parseKind(raw: string | undefined): EntryKind | undefined {
  if (raw === undefined || raw === 'webhook') return 'webhook';
  if (raw === 'connection') return 'connection';
  return undefined;
}
