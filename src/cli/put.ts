/** `cwm put`: validates one config and writes it to etcd; an invalid config is never written. */
import { formatKey, isValidName, type EntryKey } from '../config/keys.js';
import { err, EXIT, out, parseCommand, readInput, usageError, type Command } from './common.js';
import { checkConfig, formatProblems, parseJson } from './config-input.js';
import { ETCD_FLAGS, ETCD_FLAGS_HELP, openEtcd } from './etcd-access.js';

const NAME_RULE = 'must match ^[A-Za-z0-9_-]{1,64}$';

function targetKey(target: string, connection: boolean): EntryKey {
  if (connection) {
    if (!isValidName(target)) throw usageError(`connection name ${JSON.stringify(target)} ${NAME_RULE}`);
    return { kind: 'connection', name: target };
  }
  const parts = target.split('/');
  if (parts.length !== 2) throw usageError(`target must be <namespace>/<id>, got ${JSON.stringify(target)}`);
  const [namespace, id] = parts as [string, string];
  if (!isValidName(namespace) || !isValidName(id)) throw usageError(`namespace and id ${NAME_RULE}, got ${JSON.stringify(target)}`);
  return { kind: 'webhook', namespace, id };
}

export const putCommand: Command = {
  name: 'put',
  help: `usage: cwm put [options] <namespace>/<id> <file|->
       cwm put [options] --connection <name> <file|->

Validates the config (as cwm validate does) and, only if it is valid, writes it
to <prefix><namespace>/webhooks/<id> (or <prefix>global/connections/<name>).
Every running cwm instance picks it up from its watch.

options:
  --connection      the target is a shared connection name, not <namespace>/<id>
${ETCD_FLAGS_HELP}

exit codes: 0 written, 1 invalid config (nothing written), 2 bad arguments, 3 etcd unreachable`,
  async run(argv) {
    const parsed = parseCommand(this, argv, { ...ETCD_FLAGS, connection: { type: 'boolean' } }, { min: 2, max: 2 });
    if (!parsed) return EXIT.ok;
    const [target, path] = parsed.positionals as [string, string];
    const key = targetKey(target, parsed.values.connection === true);
    // Opening checks the etcd flags before any input is read; it does not connect yet.
    const etcd = openEtcd(parsed);
    try {
      const source = path === '-' ? 'stdin' : path;
      const { value, problem } = parseJson(await readInput(path), source);
      const errors = problem ? problem.errors : await checkConfig(key.kind, value);
      if (errors.length > 0) {
        err(formatProblems([{ source, errors }]));
        err('nothing written');
        return EXIT.invalid;
      }
      const etcdKey = formatKey(etcd.settings.prefix, key);
      const res = await etcd.run(`write ${etcdKey}`, () => etcd.client.put(etcdKey).value(JSON.stringify(value)).exec());
      out(`${etcdKey} written (revision ${res.header.revision})`);
      return EXIT.ok;
    } finally {
      etcd.close();
    }
  },
};
