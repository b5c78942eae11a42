/** `cwm validate`: checks a config against the published schema without touching etcd. */
import { err, EXIT, out, parseCommand, readInput, stringFlag, usageError, type Command } from './common.js';
import { checkConfig, formatProblems, judgeMany, parseJson, parseKind, type EntryVerdict, type Problem } from './config-input.js';

/** One block per entry, then the summary line; nothing quoted from the values. */
export function formatVerdicts(verdicts: readonly EntryVerdict[]): string {
  const lines: string[] = [];
  for (const v of verdicts) {
    lines.push(`${v.source}: ${v.verdict}`);
    for (const l of v.lines) lines.push(`  ${l}`);
  }
  const count = (verdict: EntryVerdict['verdict']): number => verdicts.filter((v) => v.verdict === verdict).length;
  lines.push(`summary: ${verdicts.length} entries: ${count('accepted')} accepted, ${count('accepted-with-changes')} accepted-with-changes, ${count('refused')} refused`);
  return lines.join('\n');
}

export const validateCommand: Command = {
  name: 'validate',
  help: `usage: cwm validate [--kind webhook|connection] [--many [--strict]] <file|->

Checks a config with the same JSON Schema the receiver applies
(schema/webhook.schema.json, schema/connection.schema.json). Reads stdin for "-".
Errors are printed as JSON pointers into the document. {$NAME} placeholders
are filled from this environment (names allowed by CONFIG_ENV_ALLOWLIST,
default ^CWM_) as the receiver fills them from its own, so set representative
values, or give defaults ({$NAME:default}), when validating in CI.

options:
  --kind KIND   webhook (default) or connection
  --many        the file maps names to configs, like webhooks.json / connections.json
                (CWM's format). Prints one verdict per entry, then a summary line:
                  accepted               served, and behaves as in CWM
                  accepted-with-changes  served; the lines under it say what behaves
                                         differently from CWM (pointer first)
                  refused                never served; the lines say why (pointer first)
                CWM's "_comment" notes are skipped. Values are never printed.
  --strict      with --many, exit 1 on accepted-with-changes too

exit codes: 0 valid (--many: nothing refused), 1 invalid or unreadable, 2 bad arguments`,
  async run(argv) {
    const parsed = parseCommand(this, argv, { kind: { type: 'string' }, many: { type: 'boolean' }, strict: { type: 'boolean' } }, { min: 1, max: 1 });
    if (!parsed) return EXIT.ok;
    const kind = parseKind(stringFlag(parsed, 'kind'));
    if (!kind) throw usageError(`--kind must be webhook or connection\n\n${this.help}`);
    const path = parsed.positionals[0] as string;
    const source = path === '-' ? 'stdin' : path;
    const { value, problem } = parseJson(await readInput(path), source);
    if (problem) {
      err(formatProblems([problem]));
      return EXIT.invalid;
    }
    if (parsed.values.many === true) {
      const verdicts = await judgeMany(kind, value, source);
      if (verdicts === undefined) {
        err(formatProblems([{ source, errors: ['/ must be a JSON object keyed by name'] }]));
        return EXIT.invalid;
      }
      out(formatVerdicts(verdicts));
      const failing = verdicts.some((v) => v.verdict === 'refused' || (parsed.values.strict === true && v.verdict === 'accepted-with-changes'));
      return failing ? EXIT.invalid : EXIT.ok;
    }
    const errors = await checkConfig(kind, value);
    const problems: Problem[] = errors.length > 0 ? [{ source, errors }] : [];
    if (problems.length > 0) {
      err(formatProblems(problems));
      return EXIT.invalid;
    }
    out(`${source}: valid ${kind} config`);
    return EXIT.ok;
  },
};
