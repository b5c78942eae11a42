/**
 * File backend (the default): webhooks.json in CWM's flat format
 * `{ "<id>": {...} }` served in the default namespace, plus connections.json
 * `{ "<name>": {...} }` — CONFIG_DIR's, or the files WEBHOOKS_CONFIG_FILE /
 * CONNECTIONS_CONFIG_FILE name. Reloads on change.
 */
import { closeSync, fstatSync, openSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { SettingsError, type ConfigFile, type ConfigFiles } from '../../settings.js';
import { describeJsonError } from '../json-error.js';
import { isCommentEntry, isValidName, type EntryKey } from '../keys.js';
import type { ConfigProvider, ConfigSink, RawEntry, SourceState } from '../provider.js';

export interface FileProviderOptions {
  readonly files: ConfigFiles;
  readonly namespace: string;
  readonly logger: Logger;
  /** Coalesces the bursts of events editors and `cp` produce. */
  readonly debounceMs?: number;
}

export class FileConfigError extends Error {}

/** `path (SETTING)`: which variable to fix. */
function named(file: ConfigFile): string {
  return file.setting === undefined ? file.path : `${file.path} (${file.setting})`;
}

/** Why a file cannot be read, in words plus the errno code, never the file's content. */
function unreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file (ENOENT)';
  if (code === 'EACCES') return 'permission denied (EACCES)';
  if (code === 'EISDIR') return 'is a folder, not a file (EISDIR)';
  return code ?? (err as Error).message;
}

/**
 * Before listening: every required file (and an optional one that exists)
 * must be a readable file, so a wrong path stops the process with a message
 * naming the setting instead of serving something else.
 */
export function assertConfigFilesReadable(files: ConfigFiles): void {
  for (const file of [files.webhooks, files.connections]) {
    let fd: number | undefined;
    try {
      fd = openSync(file.path, 'r');
      if (fstatSync(fd).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    } catch (err) {
      if (!file.required && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new SettingsError(`config file ${named(file)} cannot be read: ${unreadable(err)}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

async function readObject(file: ConfigFile): Promise<Record<string, unknown>> {
  const path = file.path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (!file.required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new FileConfigError(`${named(file)}: cannot read: ${unreadable(err)}`);
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
export async function readConfigEntries(files: ConfigFiles, namespace: string): Promise<{ entries: RawEntry[]; rejected: RejectedName[] }> {
  const webhooksPath = files.webhooks.path;
  const connectionsPath = files.connections.path;
  const [webhooks, connections] = await Promise.all([readObject(files.webhooks), readObject(files.connections)]);
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
export async function readConfigFiles(files: ConfigFiles, namespace: string, logger: Logger): Promise<RawEntry[]> {
  const { entries, rejected } = await readConfigEntries(files, namespace);
  for (const r of rejected) logger.error({ file: r.file, name: r.name, reason: r.reason }, 'config entry ignored');
  return entries;
}

export class FileConfigProvider implements ConfigProvider {
  readonly name = 'file';
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reloads = 0;

  constructor(private readonly options: FileProviderOptions) {}

  async start(sink: ConfigSink): Promise<void> {
    await this.load(sink, true);
    // Watch the folders, not the files: editors and `mv` replace files, which orphans a file watch.
    const names = new Map<string, Set<string>>();
    for (const file of [this.options.files.webhooks, this.options.files.connections]) {
      const dir = dirname(file.path);
      names.set(dir, (names.get(dir) ?? new Set()).add(basename(file.path)));
    }
    for (const [dir, watched] of names) {
      const watcher = watch(dir, (_event, file) => {
        if (file !== null && !watched.has(file)) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.load(sink, false), this.options.debounceMs ?? 50);
      });
      watcher.on('error', (err) => this.options.logger.error({ err, dir }, 'config folder watch failed'));
      this.watchers.push(watcher);
    }
  }

  private async load(sink: ConfigSink, initial: boolean): Promise<void> {
    try {
      const entries = await readConfigFiles(this.options.files, this.options.namespace, this.options.logger);
      sink.replaceAll(entries);
      sink.revision(++this.reloads);
      this.options.logger.info({ webhooks_file: this.options.files.webhooks.path, connections_file: this.options.files.connections.path, entries: entries.length }, initial ? 'config loaded' : 'config reloaded');
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
    for (const w of this.watchers) w.close();
  }
}
