/** The `cwm` command: dispatches to one small module per subcommand and turns errors into exit codes. */
import { SettingsError } from '../settings.js';
import { CliError, err, EXIT, out, type Command } from './common.js';

interface Entry {
  /** One line for `cwm --help`. */
  readonly summary: string;
  /** Loaded on use: `cwm validate` must not pay for loading the server, gRPC or Kafka. */
  load(): Promise<Command>;
}

const COMMANDS: ReadonlyMap<string, Entry> = new Map<string, Entry>([
  ['serve', { summary: 'run the receiver (what npm start runs)', load: async () => (await import('./serve.js')).serveCommand }],
  ['validate', { summary: 'check a webhook or connection config file against the schema', load: async () => (await import('./validate.js')).validateCommand }],
  ['put', { summary: 'validate a config and write it to etcd', load: async () => (await import('./put.js')).putCommand }],
  ['import', { summary: 'copy webhooks.json + connections.json (or a cwm export) into etcd', load: async () => (await import('./import.js')).importCommand }],
  ['export', { summary: 'print the configuration stored in etcd as JSON', load: async () => (await import('./export.js')).exportCommand }],
  ['deliveries', { summary: 'list, show, replay or purge deliveries in the durable spool', load: async () => (await import('./deliveries.js')).deliveriesCommand }],
  ['list', { summary: 'list webhooks (namespace/id) or connections stored in etcd', load: async () => (await import('./list.js')).listCommand }],
]);

const USAGE = `usage: cwm <command> [options]

commands:
${[...COMMANDS].map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}

Run "cwm <command> --help" for a command's options. Without a command, cwm serves.
Exit codes: 0 success, 1 invalid input, 2 bad arguments, 3 etcd unreachable.`;

export async function main(argv: string[]): Promise<number> {
  const [name = 'serve', ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    out(USAGE);
    return EXIT.ok;
  }
  const entry = COMMANDS.get(name);
  if (!entry) {
    err(`cwm: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    if (e instanceof CliError) {
      err(`cwm ${name}: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof SettingsError) {
      err(`cwm: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    err(`cwm: unexpected failure: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
