/** `cwm export`: etcd → JSON on stdout, the document `cwm import --file` restores. */
import { err, EXIT, out, parseCommand, usageError, type Command } from './common.js';
import { isValidName } from '../config/keys.js';
import { ETCD_FLAGS, ETCD_FLAGS_HELP, openEtcd, readEntries } from './etcd-access.js';

export const exportCommand: Command = {
  name: 'export',
  help: `usage: cwm export [options] [namespace]

Prints every webhook and connection under the prefix as one JSON document:
  { "connections": { "<name>": {...} }, "webhooks": { "<namespace>": { "<id>": {...} } } }
which "cwm import --file" writes back. With a namespace, prints only that
namespace's webhooks in CWM's flat webhooks.json format { "<id>": {...} }.
Values that are not JSON are skipped with a warning on stderr (exit code 1).

options:
${ETCD_FLAGS_HELP}

exit codes: 0 exported, 1 some values skipped, 2 bad arguments, 3 etcd unreachable`,
  async run(argv) {
    const parsed = parseCommand(this, argv, ETCD_FLAGS, { min: 0, max: 1 });
    if (!parsed) return EXIT.ok;
    const namespace = parsed.positionals[0];
    if (namespace !== undefined && !isValidName(namespace)) throw usageError(`namespace must match ^[A-Za-z0-9_-]{1,64}$, got ${JSON.stringify(namespace)}`);
    const etcd = openEtcd(parsed);
    try {
      const entries = await readEntries(etcd, namespace === undefined ? '' : `${namespace}/webhooks/`);
      // Maps, then Object.fromEntries: "__proto__" stays an ordinary own key.
      const connections = new Map<string, unknown>();
      const webhooks = new Map<string, Map<string, unknown>>();
      let skipped = 0;
      for (const e of entries) {
        let value: unknown;
        try {
          value = JSON.parse(e.value);
        } catch {
          skipped++;
          err(`${e.etcdKey}: value is not JSON; skipped`);
          continue;
        }
        if (e.key.kind === 'connection') connections.set(e.key.name, value);
        else {
          let ns = webhooks.get(e.key.namespace);
          if (!ns) webhooks.set(e.key.namespace, (ns = new Map()));
          ns.set(e.key.id, value);
        }
      }
      const document = namespace !== undefined
        ? Object.fromEntries(webhooks.get(namespace) ?? [])
        : { connections: Object.fromEntries(connections), webhooks: Object.fromEntries([...webhooks].map(([ns, hooks]) => [ns, Object.fromEntries(hooks)])) };
      out(JSON.stringify(document, null, 2));
      return skipped > 0 ? EXIT.invalid : EXIT.ok;
    } finally {
      etcd.close();
    }
  },
};
