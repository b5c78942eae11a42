/**
 * What every subcommand shares: exit codes, argument parsing with `--help`,
 * and reading a file or stdin. Errors carry their exit code; main prints them.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const EXIT = {
  ok: 0,
  /** The input is invalid (schema, JSON, names) or an export skipped entries. */
  invalid: 1,
  /** Bad command line. */
  usage: 2,
  /** etcd could not be reached or refused the operation. */
  etcd: 3,
} as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
export const invalidInput = (message: string): CliError => new CliError(message, EXIT.invalid);

export interface Command {
  readonly name: string;
  /** The full `cwm <name> --help` text. */
  readonly help: string;
  /** Resolves the exit code; -1 means "keeps running" (serve). */
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: string[];
}

/** Parses strictly; `--help` anywhere returns null after printing the command's help. */
export function parseCommand(command: Command, argv: string[], options: Options, positionals: { min: number; max: number }): Parsed | null {
  let parsed: Parsed;
  try {
    const result = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    parsed = { values: result.values as Parsed['values'], positionals: result.positionals };
  } catch (err) {
    throw usageError(`${(err as Error).message}\n\n${command.help}`);
  }
  if (parsed.values.help === true) {
    process.stdout.write(command.help + '\n');
    return null;
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max) {
    const expected = positionals.min === positionals.max ? `${positionals.min}` : `${positionals.min} to ${positionals.max}`;
    throw usageError(`expected ${expected} argument(s), got ${n}\n\n${command.help}`);
  }
  return parsed;
}

export function stringFlag(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Reads a file, or stdin for "-". */
export async function readInput(path: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw invalidInput(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function out(line: string): void {
  process.stdout.write(line + '\n');
}

export function err(line: string): void {
  process.stderr.write(line + '\n');
}
