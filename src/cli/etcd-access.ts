/**
 * etcd for the one-shot commands: settings from the same environment as
 * `serve` (ETCD_*), overridable by flags, and every operation bounded in time
 * so an unreachable etcd is a clear message naming the endpoints, not a hang.
 */
import { handleWhen, noop, retry } from 'cockatiel';
import { isRecoverableError, type Etcd3 } from 'etcd3';
import { parseKey, type EntryKey } from '../config/keys.js';
import { createEtcdClient, EtcdClientConfigError } from '../connections/etcd-client.js';
import { loadSettings, type EtcdSettings } from '../settings.js';
import { CliError, EXIT, stringFlag, usageError, type Parsed } from './common.js';

export const ETCD_FLAGS = {
  endpoints: { type: 'string' },
  prefix: { type: 'string' },
  'timeout-ms': { type: 'string' },
} as const;

export const ETCD_FLAGS_HELP = `etcd options (default: the ETCD_* environment variables, as for serve):
  --endpoints URLS     comma list, e.g. http://10.0.0.1:2379,http://10.0.0.2:2379
  --prefix PREFIX      key prefix (default ETCD_PREFIX or /cwm/)
  --timeout-ms MS      give up when etcd does not answer within MS (default 5000)`;

const DEFAULT_TIMEOUT_MS = 5000;

export interface EtcdSession {
  readonly settings: EtcdSettings;
  readonly client: Etcd3;
  /** Runs one etcd operation within the timeout; failures become exit code 3 naming the endpoints. */
  run<T>(what: string, op: () => Promise<T>): Promise<T>;
  close(): void;
}

function etcdSettings(parsed: Parsed): EtcdSettings {
  const base = loadSettings().etcd;
  const endpoints = stringFlag(parsed, 'endpoints');
  let prefix = stringFlag(parsed, 'prefix') ?? base.prefix;
  if (!prefix.endsWith('/')) prefix += '/';
  if (endpoints === undefined) return { ...base, prefix };
  const list = endpoints.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw usageError('--endpoints must list at least one endpoint');
  return { ...base, prefix, endpoints: list.map((h) => (/^[a-z]+:\/\//i.test(h) ? h : `http://${h}`)) };
}

function timeoutMs(parsed: Parsed): number {
  const raw = stringFlag(parsed, 'timeout-ms');
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw usageError(`--timeout-ms must be a positive whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function openEtcd(parsed: Parsed): EtcdSession {
  const settings = etcdSettings(parsed);
  const limit = timeoutMs(parsed);
  let client: Etcd3;
  try {
    client = createEtcdClient(settings, {
      callTimeoutMs: limit,
      // One attempt per endpoint: with HA endpoints, one member down must not fail the command.
      faultHandling: { host: () => noop, global: retry(handleWhen(isRecoverableError), { maxAttempts: settings.endpoints.length }) },
    });
  } catch (e) {
    if (e instanceof EtcdClientConfigError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
  const where = settings.endpoints.join(',');
  return {
    settings,
    client,
    async run<T>(what: string, op: () => Promise<T>): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      // The client retries across endpoints on its own; this bounds the whole attempt.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${limit} ms`)), limit);
      });
      try {
        return await Promise.race([op(), expired]);
      } catch (e) {
        throw new CliError(`cannot ${what}: etcd at ${where} unreachable or refused: ${(e as Error).message}`, EXIT.etcd);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      client.close();
    },
  };
}

export interface StoredEntry {
  readonly key: EntryKey;
  readonly etcdKey: string;
  readonly value: string;
}

/** Every cwm entry under `<prefix><below>`; keys that are not ours are skipped (as the receiver does). */
export async function readEntries(etcd: EtcdSession, below = ''): Promise<StoredEntry[]> {
  const prefix = etcd.settings.prefix;
  const res = await etcd.run(`read ${prefix}${below}`, () => etcd.client.getAll().prefix(prefix + below).sort('Key', 'Ascend').exec());
  const entries: StoredEntry[] = [];
  for (const kv of res.kvs) {
    const etcdKey = kv.key.toString('utf8');
    const key = parseKey(prefix, etcdKey);
    if (key) entries.push({ key, etcdKey, value: kv.value.toString('utf8') });
  }
  return entries;
}
