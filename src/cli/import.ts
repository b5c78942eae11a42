/**
 * `cwm import`: the migration path from the file backend (and restore from
 * `cwm export`). Everything is validated first; if anything is invalid,
 * nothing is written.
 */
import { readFile } from 'node:fs/promises';
import type { IRequestOp } from 'etcd3';
import { formatKey, isCommentEntry, isValidName, type EntryKey } from '../config/keys.js';
import { FileConfigError, readConfigEntries } from '../config/providers/file.js';
import { configFilesIn, loadSettings, type ConfigFiles } from '../settings.js';
import { err, EXIT, invalidInput, out, parseCommand, stringFlag, usageError, type Command } from './common.js';
import { checkConfig, checkMany, formatProblems, parseJson, type Problem } from './config-input.js';
import { ETCD_FLAGS, ETCD_FLAGS_HELP, openEtcd } from './etcd-access.js';

/** etcd refuses transactions of more than 128 operations by default (--max-txn-ops). */
const OPS_PER_TXN = 100;

interface Planned {
  readonly key: EntryKey;
  readonly value: unknown;
}

async function planFromFiles(files: ConfigFiles, namespace: string): Promise<{ plan: Planned[]; problems: Problem[] }> {
  let read: Awaited<ReturnType<typeof readConfigEntries>>;
  try {
    read = await readConfigEntries(files, namespace);
  } catch (e) {
    if (e instanceof FileConfigError) throw invalidInput(e.message);
    throw e;
  }
  const problems: Problem[] = read.rejected.map((r) => ({ source: `${r.file}#${r.name}`, errors: [r.reason] }));
  const plan: Planned[] = [];
  for (const entry of read.entries) {
    const value: unknown = JSON.parse(entry.value);
    const errors = await checkConfig(entry.key.kind, value);
    if (errors.length > 0) problems.push({ source: entry.source, errors });
    else plan.push({ key: entry.key, value });
  }
  return { plan, problems };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The document `cwm export` prints: { "connections": {name: cfg}, "webhooks": {namespace: {id: cfg}} }. */
async function planFromExport(path: string): Promise<{ plan: Planned[]; problems: Problem[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw invalidInput(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const { value, problem } = parseJson(text, path);
  if (problem) return { plan: [], problems: [problem] };
  if (!isObject(value) || !isObject(value.webhooks ?? {}) || !isObject(value.connections ?? {})) {
    return { plan: [], problems: [{ source: path, errors: ['/ must be {"connections": {...}, "webhooks": {"<namespace>": {...}}} as printed by cwm export'] }] };
  }
  const problems = await checkMany('connection', value.connections ?? {}, `${path}#connections`);
  const plan: Planned[] = Object.entries((value.connections ?? {}) as Record<string, unknown>).filter(([name, v]) => !isCommentEntry(name, v)).map(([name, v]) => ({ key: { kind: 'connection', name }, value: v }));
  for (const [namespace, hooks] of Object.entries((value.webhooks ?? {}) as Record<string, unknown>)) {
    const where = `${path}#webhooks/${namespace}`;
    if (!isValidName(namespace)) problems.push({ source: where, errors: ['namespace must match ^[A-Za-z0-9_-]{1,64}$'] });
    else {
      problems.push(...(await checkMany('webhook', hooks, where)));
      if (isObject(hooks)) for (const [id, v] of Object.entries(hooks)) if (!isCommentEntry(id, v)) plan.push({ key: { kind: 'webhook', namespace, id }, value: v });
    }
  }
  return { plan, problems };
}

export const importCommand: Command = {
  name: 'import',
  help: `usage: cwm import [options]

Copies the file backend's configuration into etcd: CONFIG_DIR/webhooks.json
(CWM's flat { "<id>": {...} } format) into namespace ETCD_NAMESPACE, and
CONFIG_DIR/connections.json into the shared connections. With --file, restores
a document printed by "cwm export" instead.
Every entry is validated first; if any name or config is invalid, nothing is
written. Entries are written in transactions of ${OPS_PER_TXN} keys, connections first.
Existing keys with the same names are overwritten; other keys are left alone.

options:
  --dir DIR          folder holding webhooks.json / connections.json (default: what
                     the file backend reads: CONFIG_DIR, WEBHOOKS_CONFIG_FILE, CONNECTIONS_CONFIG_FILE)
  --namespace NS     namespace for webhooks.json (default ETCD_NAMESPACE or "default")
  --file FILE        import a "cwm export" document instead of a folder
  --dry-run          validate and list what would be written; write nothing
${ETCD_FLAGS_HELP}

exit codes: 0 imported, 1 invalid input (nothing written), 2 bad arguments, 3 etcd unreachable`,
  async run(argv) {
    const parsed = parseCommand(this, argv, { ...ETCD_FLAGS, dir: { type: 'string' }, namespace: { type: 'string' }, file: { type: 'string' }, 'dry-run': { type: 'boolean' } }, { min: 0, max: 0 });
    if (!parsed) return EXIT.ok;
    const settings = loadSettings();
    const file = stringFlag(parsed, 'file');
    const dirFlag = stringFlag(parsed, 'dir');
    const namespace = stringFlag(parsed, 'namespace') ?? settings.defaultNamespace;
    if (!isValidName(namespace)) throw usageError(`--namespace must match ^[A-Za-z0-9_-]{1,64}$, got ${JSON.stringify(namespace)}`);
    if (file !== undefined && (dirFlag !== undefined || stringFlag(parsed, 'namespace') !== undefined)) {
      throw usageError('--file cannot be combined with --dir or --namespace');
    }
    const etcd = openEtcd(parsed);
    try {
      const { plan, problems } = file !== undefined ? await planFromExport(file) : await planFromFiles(dirFlag !== undefined ? configFilesIn(dirFlag) : settings.configFiles, namespace);
      if (problems.length > 0) {
        err(formatProblems(problems));
        err(`${problems.length} invalid entr${problems.length === 1 ? 'y' : 'ies'}; nothing written`);
        return EXIT.invalid;
      }
      // Connections first, so instances watching along compile webhooks that already find them.
      plan.sort((a, b) => (a.key.kind === b.key.kind ? 0 : a.key.kind === 'connection' ? -1 : 1));
      const ops: { etcdKey: string; op: IRequestOp }[] = plan.map((p) => {
        const etcdKey = formatKey(etcd.settings.prefix, p.key);
        return { etcdKey, op: { request_put: { key: Buffer.from(etcdKey), value: Buffer.from(JSON.stringify(p.value)) } } };
      });
      if (parsed.values['dry-run'] === true) {
        for (const o of ops) out(`would write ${o.etcdKey}`);
        out(`dry run: ${ops.length} entries valid; nothing written`);
        return EXIT.ok;
      }
      let revision = '0';
      for (let i = 0; i < ops.length; i += OPS_PER_TXN) {
        const batch = ops.slice(i, i + OPS_PER_TXN);
        const res = await etcd.run(`write ${batch.length} keys`, () => etcd.client.kv.txn({ compare: [], success: batch.map((o) => o.op), failure: [] }));
        revision = String(res.header.revision);
      }
      const hooks = plan.filter((p) => p.key.kind === 'webhook').length;
      out(`imported ${hooks} webhook(s) and ${plan.length - hooks} connection(s) under ${etcd.settings.prefix} (revision ${revision})`);
      return EXIT.ok;
    } finally {
      etcd.close();
    }
  },
};
