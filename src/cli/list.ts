/** `cwm list`: the webhooks (or connections) stored in etcd, one per line. */
import { isValidName } from '../config/keys.js';
import { EXIT, out, parseCommand, usageError, type Command } from './common.js';
import { ETCD_FLAGS, ETCD_FLAGS_HELP, openEtcd, readEntries } from './etcd-access.js';

export const listCommand: Command = {
  name: 'list',
  help: `usage: cwm list [options] [namespace]

Prints one <namespace>/<id> per line, sorted; with a namespace, only its
webhooks. Lists what is stored, valid or not ("cwm export" shows the values).

options:
  --connections     list shared connection names instead
${ETCD_FLAGS_HELP}

exit codes: 0 listed, 2 bad arguments, 3 etcd unreachable`,
  async run(argv) {
    const parsed = parseCommand(this, argv, { ...ETCD_FLAGS, connections: { type: 'boolean' } }, { min: 0, max: 1 });
    if (!parsed) return EXIT.ok;
    const namespace = parsed.positionals[0];
    const connections = parsed.values.connections === true;
    if (namespace !== undefined && connections) throw usageError('a namespace cannot be combined with --connections');
    if (namespace !== undefined && !isValidName(namespace)) throw usageError(`namespace must match ^[A-Za-z0-9_-]{1,64}$, got ${JSON.stringify(namespace)}`);
    const etcd = openEtcd(parsed);
    try {
      const below = connections ? 'global/connections/' : namespace !== undefined ? `${namespace}/webhooks/` : '';
      for (const e of await readEntries(etcd, below)) {
        if (connections && e.key.kind === 'connection') out(e.key.name);
        else if (!connections && e.key.kind === 'webhook') out(`${e.key.namespace}/${e.key.id}`);
      }
      return EXIT.ok;
    } finally {
      etcd.close();
    }
  },
};
