/**
 * Holds the compiled configuration the request path reads. Each provider
 * change touches exactly one entry: parse, substitute, validate and compile
 * happen here once per change; an invalid value keeps the previous version.
 */
import type { Logger } from 'pino';
import type { ConnectionConfig, LiveConnections } from '../connections/live.js';
import { ConfigError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { compileWebhook, type CompiledWebhook } from './compile.js';
import { mayHoldVaultReference, type VaultValues } from './env-substitution.js';
import { parseConfigText, readConfig } from './entry.js';
import { Backoff } from './providers/backoff.js';
import { VaultUnavailableError } from '../vault/client.js';
import { readVaultValues, type VaultSecrets } from '../vault/read-secrets.js';
import { entryId, type EntryKey } from './keys.js';
import type { ConfigSink, EntryHistory, RawEntry } from './provider.js';
import type { OutputSettings } from '../outputs/types.js';
import type { WebhookConfig } from './schema/webhook.js';

export interface ManagerOptions {
  /** The root logger: the manager logs under `component: config`, webhooks and deliveries without a component. */
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly connections: LiveConnections;
  readonly maxBodyBytes: number;
  /** Handed to outputs at bind time (outbound guard, save_to_disk root). */
  readonly outputSettings?: OutputSettings;
  readonly envAllowlist: RegExp;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where `{$vault:…}` references are read; absent: no Vault, and such configs are refused. */
  readonly vault?: VaultSecrets;
}

/**
 * An entry whose Vault secrets could not be read is tried again after this
 * backoff (full jitter), so a Vault that was down at startup or at a change
 * gets the entry served once it is back, without a config change.
 */
const VAULT_RETRY_INITIAL_MS = 500;
const VAULT_RETRY_MAX_MS = 30_000;

interface VaultRetry {
  readonly backoff: Backoff;
  timer?: NodeJS.Timeout;
}

/**
 * What `seen` keeps of an entry. An entry applied from a store with
 * revisions keeps no text: replaceAll tells an unchanged entry by its
 * revision (a key's mod_revision changes with every put), and at 25 000
 * webhooks the texts were 5.3 MB of a 55 MB heap. Entries still being worked
 * on (Vault reads, retries, history searches) are kept whole: those compare
 * by identity.
 */
type SeenEntry = RawEntry | { readonly key: RawEntry['key']; readonly source: string; readonly revision: number; readonly value?: undefined };

function unchanged(seen: SeenEntry | undefined, next: RawEntry): boolean {
  if (seen === undefined) return false;
  return seen.revision !== undefined && next.revision !== undefined ? seen.revision === next.revision : seen.value === next.value;
}

export class ConfigManager implements ConfigSink {
  /** namespace → id → compiled webhook; Maps so that "__proto__" is just another name. */
  private readonly webhooks = new Map<string, Map<string, CompiledWebhook>>();
  /** Last raw value seen per entry (valid or not): replaceAll applies only what differs. */
  private readonly seen = new Map<string, SeenEntry>();
  private webhookCount = 0;
  private webhookGeneration = 0;
  /** Entries served from an earlier, valid version because their current value is invalid. */
  private readonly fromHistory = new Set<string>();
  private lastRevision = 0;
  /** Set during replaceAll, which updates the gauges once at its end. */
  private bulk = false;
  /** Vault reads under way (settled() waits for them: readiness covers entries that reference Vault). */
  private readonly pending = new Set<Promise<void>>();
  /** Entries waiting to read Vault again after it was unreachable. */
  private readonly vaultRetries = new Map<string, VaultRetry>();

  /** The manager's own lines; webhooks and their delivery lines log under the root logger (no component). */
  private readonly log: Logger;

  constructor(private readonly options: ManagerOptions) {
    this.log = options.logger.child({ component: 'config' });
  }

  lookup(namespace: string, id: string): CompiledWebhook | undefined {
    return this.webhooks.get(namespace)?.get(id);
  }

  get size(): number {
    return this.webhookCount;
  }

  /** Bumped whenever an active webhook is added, replaced or removed: what is derived from all of them (/openapi.json) is rebuilt only then. */
  get generation(): number {
    return this.webhookGeneration;
  }

  get revisionApplied(): number {
    return this.lastRevision;
  }

  /** Every active webhook (the spool scans them for the Redis connections its workers must watch). */
  *all(): IterableIterator<CompiledWebhook> {
    for (const hooks of this.webhooks.values()) yield* hooks.values();
  }

  namespaces(): string[] {
    return [...this.webhooks].filter(([, hooks]) => hooks.size > 0).map(([ns]) => ns);
  }

  upsert(entry: RawEntry): void {
    this.apply(entry, entryId(entry.key));
  }

  private forgetHistory(id: string): void {
    if (this.fromHistory.delete(id)) this.options.metrics.servedFromHistory.set(this.fromHistory.size);
  }

  private apply(entry: RawEntry, id: string): void {
    this.seen.set(id, entry);
    if (this.options.vault && mayHoldVaultReference(entry.value)) {
      this.track(this.applyWithVault(entry, id));
      return;
    }
    this.forgetVaultRetry(id);
    this.applyValue(entry, id, undefined);
  }

  /** Applies `entry` with its Vault values read; a failure is logged as applyValue logs it. */
  private applyValue(entry: RawEntry, id: string, vault: VaultValues | undefined): void {
    try {
      if (entry.key.kind === 'connection') this.applyConnection(entry.key.name, entry, vault);
      else this.applyWebhook(entry.key.namespace, entry.key.id, entry, vault);
      if (entry.revision !== undefined && this.seen.get(id) === entry) this.seen.set(id, { key: entry.key, source: entry.source, revision: entry.revision });
      this.forgetHistory(id);
      this.options.metrics.configChanges.inc({ op: 'put' });
    } catch (err) {
      this.failed(entry, id, err);
    }
  }

  private keepWord(entry: RawEntry): string {
    return entry.key.kind === 'webhook' && this.lookup(entry.key.namespace, entry.key.id) ? 'previous version stays active' : 'entry stays absent';
  }

  private failed(entry: RawEntry, id: string, err: unknown): void {
    const keep = this.keepWord(entry);
    if (err instanceof ConfigError) {
      this.options.metrics.invalidEntries.inc({ kind: entry.key.kind });
      const absent = keep === 'entry stays absent' && !(entry.key.kind === 'connection' && this.options.connections.has(entry.key.name));
      this.log.error({ key: entry.source, code: err.code, reason: err.message }, `invalid config entry ignored; ${keep}`);
      if (absent && entry.history) void this.recoverFromHistory(entry, id, entry.history);
    } else {
      // Not the config's fault: a bug in cwm, with its stack, counted apart from bad configs.
      this.options.metrics.compileFailures.inc({ kind: entry.key.kind });
      this.log.error({ key: entry.source, err }, `internal error while compiling a config entry; ${keep}`);
    }
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Resolves once no Vault read started so far is under way (retries after a failure are not waited for). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Reads the entry's Vault secrets, then applies it, unless a newer value or
   * a delete arrived meanwhile. Vault unreachable: the entry is not served
   * (or its previous version stays), the reason is logged, and it is tried
   * again with backoff for as long as it is the current value.
   */
  private async applyWithVault(entry: RawEntry, id: string): Promise<void> {
    let vault: VaultValues | undefined;
    try {
      vault = await readVaultValues(parseConfigText(entry.value), this.options.vault);
    } catch (err) {
      if (this.seen.get(id) !== entry) return;
      if (err instanceof VaultUnavailableError) this.retryVault(entry, id, err);
      else {
        this.forgetVaultRetry(id);
        this.failed(entry, id, err);
      }
      return;
    }
    if (this.seen.get(id) !== entry) return;
    this.forgetVaultRetry(id);
    this.applyValue(entry, id, vault);
  }

  private retryVault(entry: RawEntry, id: string, err: VaultUnavailableError): void {
    let retry = this.vaultRetries.get(id);
    if (!retry) {
      retry = { backoff: new Backoff(VAULT_RETRY_INITIAL_MS, VAULT_RETRY_MAX_MS) };
      this.vaultRetries.set(id, retry);
    }
    clearTimeout(retry.timer);
    const wait = retry.backoff.next();
    this.log.error({ key: entry.source, code: err.code, reason: err.message, retry_in_ms: wait, attempt: retry.backoff.attempts }, `Vault secrets of this entry could not be read; ${this.keepWord(entry)} until they can`);
    retry.timer = setTimeout(() => {
      if (this.seen.get(id) === entry) this.track(this.applyWithVault(entry, id));
    }, wait);
    retry.timer.unref();
  }

  private forgetVaultRetry(id: string): void {
    const retry = this.vaultRetries.get(id);
    if (!retry) return;
    clearTimeout(retry.timer);
    this.vaultRetries.delete(id);
  }

  /**
   * A key whose current value is invalid and that this instance does not
   * serve: serve its newest valid earlier version, exactly what instances
   * that saw the history serve (a restarted or added instance must not drop
   * the webhook). Applied only while the invalid value is still the latest.
   */
  private async recoverFromHistory(current: RawEntry, id: string, history: EntryHistory): Promise<void> {
    try {
      for await (const past of history.older(current)) {
        if (this.seen.get(id) !== current) return; // a newer put or a delete arrived meanwhile
        const candidate: RawEntry = { key: current.key, value: past.value, source: current.source, revision: past.revision };
        try {
          // Vault unreachable ends the search (an older version is not better for it): the catch below logs it.
          const vault = this.options.vault && mayHoldVaultReference(past.value) ? await readVaultValues(parseConfigText(past.value), this.options.vault) : undefined;
          if (this.seen.get(id) !== current) return;
          if (candidate.key.kind === 'connection') this.applyConnection(candidate.key.name, candidate, vault);
          else this.applyWebhook(candidate.key.namespace, candidate.key.id, candidate, vault);
        } catch (err) {
          if (err instanceof ConfigError) continue;
          throw err;
        }
        this.fromHistory.add(id);
        this.options.metrics.servedFromHistory.set(this.fromHistory.size);
        this.log.warn({ key: current.source, served_revision: past.revision, invalid_revision: current.revision }, 'current value is invalid; serving the newest valid version from the store history');
        return;
      }
      if (this.seen.get(id) === current) this.log.warn({ key: current.source, invalid_revision: current.revision }, 'current value is invalid and no valid earlier version is left (compacted); entry stays absent');
    } catch (err) {
      if (err instanceof VaultUnavailableError) this.log.error({ key: current.source, reason: err.message }, 'an earlier version needs Vault, which is unreachable; entry stays absent');
      else this.log.error({ key: current.source, err }, 'reading the store history failed; entry stays absent');
    }
  }

  remove(key: EntryKey, source: string): void {
    this.forgetHistory(entryId(key));
    this.forgetVaultRetry(entryId(key));
    this.seen.delete(entryId(key));
    this.options.metrics.configChanges.inc({ op: 'delete' });
    if (key.kind === 'connection') {
      this.options.connections.remove(key.name);
      this.log.info({ key: source }, 'connection removed');
      this.reportWebhooksMissing(key.name);
      this.updateGauges();
      return;
    }
    const ns = this.webhooks.get(key.namespace);
    const old = ns?.get(key.id);
    if (!ns || !old) return;
    ns.delete(key.id);
    this.webhookGeneration++;
    // An emptied namespace keeps its (empty) Map until the next replaceAll: deleting and re-adding the
    // same key in a large V8 Map costs time proportional to its size (measured: ~50 µs at 5000 namespaces).
    this.webhookCount--;
    this.updateGauges();
    this.log.info({ key: source }, 'webhook removed');
    void old.close();
  }

  replaceAll(entries: Iterable<RawEntry>): void {
    const next = new Map<string, RawEntry>();
    for (const e of entries) next.set(entryId(e.key), e);
    // Gauges once at the end, not per entry: with tens of thousands of entries the label lookups add up.
    this.bulk = true;
    try {
      // Deleting the entry being visited is safe while iterating a Map.
      for (const [id, old] of this.seen) if (!next.has(id)) this.remove(old.key, old.source);
      for (const [ns, hooks] of this.webhooks) if (hooks.size === 0) this.webhooks.delete(ns);
      // Connections first, so webhooks compiled below already see them.
      for (const kind of ['connection', 'webhook'] as const) {
        for (const [id, e] of next) {
          if (e.key.kind === kind && !unchanged(this.seen.get(id), e)) this.apply(e, id);
        }
      }
    } finally {
      this.bulk = false;
      this.updateGauges();
    }
  }

  /** Shutdown: closes every compiled webhook (its bound outputs) and forgets them. */
  async closeAll(): Promise<void> {
    const hooks = [...this.webhooks.values()].flatMap((ns) => [...ns.values()]);
    this.webhooks.clear();
    this.seen.clear();
    for (const id of [...this.vaultRetries.keys()]) this.forgetVaultRetry(id);
    this.webhookCount = 0;
    await Promise.allSettled(hooks.map((h) => h.close()));
  }

  revision(revision: number): void {
    this.lastRevision = revision;
    this.options.metrics.configRevision.set(revision);
  }

  private read(entry: RawEntry, vault: VaultValues | undefined): unknown {
    return readConfig(entry.key.kind, entry.value, { envAllowlist: this.options.envAllowlist, env: this.options.env ?? process.env, vault });
  }

  private applyConnection(name: string, entry: RawEntry, vault: VaultValues | undefined): void {
    // The connection schema requires a registered `type`.
    const config = this.read(entry, vault) as ConnectionConfig;
    this.options.connections.apply(name, config);
    this.updateGauges();
  }

  private applyWebhook(namespace: string, id: string, entry: RawEntry, vault: VaultValues | undefined): void {
    // Validated against the webhook schema, defaults filled in.
    const config = this.read(entry, vault) as WebhookConfig;
    const compiled = compileWebhook(namespace, id, config, {
      logger: this.options.logger, // parent of the webhook's own lines and of delivery lines
      connections: this.options.connections,
      maxBodyBytes: this.options.maxBodyBytes,
      settings: this.options.outputSettings,
    });
    let ns = this.webhooks.get(namespace);
    if (!ns) {
      ns = new Map();
      this.webhooks.set(namespace, ns);
    }
    const old = ns.get(id);
    ns.set(id, compiled);
    this.webhookGeneration++;
    if (!old) this.webhookCount++;
    this.updateGauges();
    for (const c of compiled.connections) {
      if (!this.options.connections.has(c)) this.log.warn({ key: entry.source, connection: c }, 'webhook uses a connection that does not exist yet; it answers 503 until it does');
    }
    if (old) void old.close();
  }

  /** Logged once per connection change, not per request. */
  private reportWebhooksMissing(connection: string): void {
    for (const [ns, hooks] of this.webhooks) {
      for (const [id, hook] of hooks) {
        if (hook.connections.includes(connection)) this.log.warn({ namespace: ns, webhook_id: id, connection }, 'connection removed; webhook answers 503 until it is back');
      }
    }
  }

  private updateGauges(): void {
    if (this.bulk) return;
    this.options.metrics.entriesLoaded.set({ kind: 'webhook' }, this.webhookCount);
    this.options.metrics.entriesLoaded.set({ kind: 'connection' }, this.options.connections.names().length);
  }
}
