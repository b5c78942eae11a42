/**
 * File backend (the default): CONFIG_DIR/webhooks.json in CWM's flat format
 * `{ "<id>": {...} }` served in the default namespace, plus
 * CONFIG_DIR/connections.json `{ "<name>": {...} }`. Reloads on change.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeJsonError } from '../json-error.js';
import { isCommentEntry, isValidName, type EntryKey } from '../keys.js';
import type { ConfigProvider, ConfigSink, RawEntry, SourceState } from '../provider.js';

export interface FileProviderOptions {
  readonly dir: string;
  readonly namespace: string;
  readonly logger: Logger;
  /** Coalesces the bursts of events editors and `cp` produce. */
  readonly debounceMs?: number;
}

export const WEBHOOKS_FILE = 'webhooks.json';
export const CONNECTIONS_FILE = 'connections.json';

export class FileConfigError extends Error {}

async function readObject(path: string, required: boolean): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new FileConfigError(`${path}: cannot read: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FileConfigError(`${path}: not valid JSON: ${describeJsonError(err)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FileConfigError(`${path}: must be a JSON object keyed by name`);
  return parsed as Record<string, unknown>;
}

export interface RejectedName {
  readonly file: string;
  readonly name: string;
  readonly reason: string;
}

/** Reads both files into raw entries, and lists the entries that cannot be loaded (bad name, unserialisable value). */
export async function readConfigEntries(dir: string, namespace: string): Promise<{ entries: RawEntry[]; rejected: RejectedName[] }> {
  const webhooksPath = join(dir, WEBHOOKS_FILE);
  const connectionsPath = join(dir, CONNECTIONS_FILE);
  const [webhooks, connections] = await Promise.all([readObject(webhooksPath, true), readObject(connectionsPath, false)]);
  const entries: RawEntry[] = [];
  const rejected: RejectedName[] = [];
  const add = (path: string, name: string, value: unknown, key: EntryKey): void => {
    if (isCommentEntry(name, value)) return;
    if (!isValidName(name)) {
      rejected.push({ file: path, name, reason: 'config name must match ^[A-Za-z0-9_-]{1,64}$' });
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      // Nesting too deep to serialise: refuse this entry only, not the whole file.
      rejected.push({ file: path, name, reason: `cannot be serialised: ${(err as Error).message}` });
      return;
    }
    entries.push({ key, value: text, source: `${path}#${name}` });
  };
  for (const [name, value] of Object.entries(connections)) add(connectionsPath, name, value, { kind: 'connection', name });
  for (const [id, value] of Object.entries(webhooks)) add(webhooksPath, id, value, { kind: 'webhook', namespace, id });
  return { entries, rejected };
}

/** readConfigEntries for the serving path: rejected names are logged and skipped. */
export async function readConfigDir(dir: string, namespace: string, logger: Logger): Promise<RawEntry[]> {
  const { entries, rejected } = await readConfigEntries(dir, namespace);
  for (const r of rejected) logger.error({ file: r.file, name: r.name, reason: r.reason }, 'config entry ignored');
  return entries;
}

export class FileConfigProvider implements ConfigProvider {
  readonly name = 'file';
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloads = 0;

  constructor(private readonly options: FileProviderOptions) {}

  async start(sink: ConfigSink): Promise<void> {
    await this.load(sink, true);
    // Watch the folder, not the files: editors and `mv` replace files, which orphans a file watch.
    this.watcher = watch(this.options.dir, (_event, file) => {
      if (file !== null && file !== WEBHOOKS_FILE && file !== CONNECTIONS_FILE) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.load(sink, false), this.options.debounceMs ?? 50);
    });
    this.watcher.on('error', (err) => this.options.logger.error({ err }, 'config folder watch failed'));
  }

  private async load(sink: ConfigSink, initial: boolean): Promise<void> {
    try {
      const entries = await readConfigDir(this.options.dir, this.options.namespace, this.options.logger);
      sink.replaceAll(entries);
      sink.revision(++this.reloads);
      this.options.logger.info({ dir: this.options.dir, entries: entries.length }, initial ? 'config loaded' : 'config reloaded');
    } catch (err) {
      if (initial) throw err;
      this.options.logger.error({ reason: (err as Error).message }, 'config reload failed; previous config stays active');
    }
  }

  state(): SourceState {
    return 'healthy';
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
