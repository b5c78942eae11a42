/** `cwm validate`: checks a config against the published schema without touching etcd. */
import { err, EXIT, out, parseCommand, readInput, stringFlag, usageError, type Command } from './common.js';
import { checkConfig, checkMany, formatProblems, parseJson, parseKind, type Problem } from './config-input.js';

export const validateCommand: Command = {
  name: 'validate',
  help: `usage: cwm validate [--kind webhook|connection] [--many] <file|->

Checks a config with the same JSON Schema the receiver applies
(schema/webhook.schema.json, schema/connection.schema.json). Reads stdin for "-".
Errors are printed as JSON pointers into the document. {$NAME} placeholders
are filled from this environment (names allowed by CONFIG_ENV_ALLOWLIST,
default ^CWM_) as the receiver fills them from its own, so set representative
values, or give defaults ({$NAME:default}), when validating in CI.

options:
  --kind KIND   webhook (default) or connection
  --many        the file maps names to configs, like webhooks.json / connections.json
                (CWM's format); every name and every config is checked

exit codes: 0 valid, 1 invalid or unreadable, 2 bad arguments`,
  async run(argv) {
    const parsed = parseCommand(this, argv, { kind: { type: 'string' }, many: { type: 'boolean' } }, { min: 1, max: 1 });
    if (!parsed) return EXIT.ok;
    const kind = parseKind(stringFlag(parsed, 'kind'));
    if (!kind) throw usageError(`--kind must be webhook or connection\n\n${this.help}`);
    const path = parsed.positionals[0] as string;
    const source = path === '-' ? 'stdin' : path;
    const { value, problem } = parseJson(await readInput(path), source);
    let problems: Problem[];
    if (problem) problems = [problem];
    else if (parsed.values.many === true) problems = await checkMany(kind, value, source);
    else {
      const errors = await checkConfig(kind, value);
      problems = errors.length > 0 ? [{ source, errors }] : [];
    }
    if (problems.length > 0) {
      err(formatProblems(problems));
      return EXIT.invalid;
    }
    out(`${source}: valid ${kind}${parsed.values.many === true ? ` configs (${Object.keys(value as object).length})` : ' config'}`);
    return EXIT.ok;
  },
};
