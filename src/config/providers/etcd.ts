/**
 * etcd backend (DESIGN §2). One revision-pinned, paginated read of the
 * prefix, then a watch from exactly the next revision, so nothing written in
 * between is lost. Each watch event is one sink.upsert/remove.
 *
 * The watch runs on a raw gRPC watch stream (etcd3's `watchClient`), not on
 * etcd3's Watcher/WatchManager: that layer re-subscribes by itself from a
 * resume point it advances *before* replaying missed events, so a second drop
 * inside that window loses them. Here every stream failure ends the stream,
 * and a new one starts from the last mod_revision cwm itself applied + 1,
 * after our own backoff with full jitter. A cancelled watch (its start
 * revision was compacted, or anything else etcd refuses) cannot be resumed at
 * all: the prefix is read again and handed to sink.replaceAll, which applies
 * only what differs.
 */
import type { Etcd3, IDuplexStream, IEvent, IWatchRequest, IWatchResponse } from 'etcd3';
import type { Logger } from 'pino';
import { createEtcdClient } from '../../connections/etcd-client.js';
import type { Metrics } from '../../observability/metrics.js';
import type { EtcdSettings } from '../../settings.js';
import { parseKey } from '../keys.js';
import type { ConfigProvider, ConfigSink, EntryHistory, PastValue, RawEntry, SourceState } from '../provider.js';
import { Backoff, pause } from './backoff.js';
import { prefixRangeEnd, readRangeSnapshot } from './etcd-range.js';
import { REQUIRE_LEADER } from './require-leader.js';

export interface EtcdProviderOptions {
  readonly settings: EtcdSettings;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

/** One watch stream; once `ended`, nothing it still emits is looked at. */
interface WatchSession {
  readonly stream: WatchStream;
  readonly from: number;
  /** The first stream this provider opened; every later one that gets established is a reconnect. */
  readonly first: boolean;
  ended: boolean;
}

export class EtcdConfigProvider implements ConfigProvider {
  readonly name = 'etcd';
  private readonly log: Logger;
  private readonly prefix: Buffer;
  private readonly rangeEnd: Buffer;
  private readonly backoff: Backoff;
  /**
   * Paces re-reads after watches etcd refuses for reasons other than
   * compaction (e.g. a start revision in the future after etcd was restored
   * from a backup), so a watch refused over and over cannot spin; reset once
   * a watch delivers events.
   */
  private readonly refusedBackoff: Backoff;
  private readonly stopping = new AbortController();
  private client: Etcd3 | undefined;
  private sink: ConfigSink | undefined;
  private session: WatchSession | undefined;
  private connected = false;
  /** The highest mod_revision delivered to the sink: every resume starts right after it. */
  private lastApplied = 0;
  private watchesOpened = 0;

  constructor(private readonly options: EtcdProviderOptions) {
    this.log = options.logger;
    this.prefix = Buffer.from(options.settings.prefix);
    this.rangeEnd = prefixRangeEnd(this.prefix);
    this.backoff = new Backoff(options.settings.backoffInitialMs, options.settings.backoffMaxMs);
    this.refusedBackoff = new Backoff(options.settings.backoffInitialMs, options.settings.backoffMaxMs);
  }

  async start(sink: ConfigSink): Promise<void> {
    this.sink = sink;
    this.client = createEtcdClient(this.options.settings);
    this.log.info({ endpoints: this.options.settings.endpoints, prefix: this.options.settings.prefix }, 'loading configuration from etcd');
    if (!(await this.load('initial load'))) {
      // Stopped before etcd was ever reached: there is no loaded state to report, so start() never settles.
      return new Promise<void>(() => undefined);
    }
    this.openWatch();
  }

  state(): SourceState {
    return this.connected ? 'healthy' : 'disconnected';
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.session) this.endSession(this.session);
    this.setConnected(false);
    this.client?.close();
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * Reads the whole prefix at one revision and hands it to the sink, retrying
   * with backoff until it succeeds. False only when stopped meanwhile.
   */
  private async load(reason: string): Promise<boolean> {
    const client = this.client as Etcd3;
    const sink = this.sink as ConfigSink;
    while (!this.stopped) {
      const began = Date.now();
      try {
        const { entries, revision, keys, pages } = await this.readEntries(client);
        if (this.stopped) return false;
        sink.replaceAll(entries);
        this.lastApplied = revision;
        sink.revision(revision);
        this.backoff.reset();
        this.setConnected(true);
        this.log.info({ reason, revision, keys, entries: entries.length, pages, ms: Date.now() - began }, 'etcd prefix read');
        return true;
      } catch (err) {
        if (this.stopped) return false;
        this.setConnected(false);
        const log = this.retryLog();
        const delay = this.backoff.next();
        log({ reason: (err as Error).message, during: reason, retry_in_ms: delay }, 'etcd prefix read failed; retrying');
        await pause(delay, this.stopping.signal);
      }
    }
    return false;
  }

  /** The prefix as entries, each etcd page converted as it arrives (see readRangeSnapshot). */
  private async readEntries(client: Etcd3): Promise<{ entries: RawEntry[]; revision: number; keys: number; pages: number }> {
    const snapshot = await readRangeSnapshot((req) => client.kv.range(req), this.prefix, this.rangeEnd, this.options.settings.pageSize, (kv) => this.toEntry(kv));
    return { entries: snapshot.items, revision: snapshot.revision, keys: snapshot.keys, pages: snapshot.pages };
  }

  /** Keys outside the layout seen so far (bounded): each is counted and logged at info once, repeats only at debug. */
  private readonly ignoredKeys = new Set<string>();

  private reportIgnored(source: string): void {
    if (this.ignoredKeys.has(source) || this.ignoredKeys.size >= 10_000) {
      this.log.debug({ key: source }, 'key outside the cwm layout ignored');
      return;
    }
    this.ignoredKeys.add(source);
    this.options.metrics.ignoredKeys.inc();
    // JSON.stringify escapes control characters a key may carry; clipped so a huge key cannot make a huge line.
    this.log.info({ key: source.length > 512 ? `${source.slice(0, 512)}…` : source }, 'key under the prefix does not fit the cwm layout (<prefix><namespace>/webhooks/<id> or <prefix>global/connections/<name>); ignored');
  }

  /** A key in the cwm layout becomes an entry; anything else under the prefix is not ours. */
  private toEntry(kv: { key: Buffer; value: Buffer; mod_revision: string }): RawEntry | undefined {
    const source = kv.key.toString();
    const key = parseKey(this.options.settings.prefix, source);
    if (key === null) {
      this.reportIgnored(source);
      return undefined;
    }
    return { key, value: kv.value.toString(), source, revision: Number(kv.mod_revision), history: this.history };
  }

  /**
   * Earlier values of a key: a range read of the key at the revision just
   * before the value we have, newest first, until the key was created (no
   * value at that revision) or etcd compacted that revision away.
   */
  private readonly history: EntryHistory = {
    older: (entry) => this.olderValues(entry),
  };

  private async *olderValues(entry: RawEntry): AsyncIterable<PastValue> {
    const client = this.client;
    if (!client || entry.revision === undefined) return;
    const key = Buffer.from(entry.source);
    let before = entry.revision - 1;
    while (before > 0 && !this.stopped) {
      let res;
      try {
        res = await client.kv.range({ key, revision: before });
      } catch (err) {
        // Compacted (or etcd unreachable): the walk ends here.
        this.log.debug({ key: entry.source, revision: before, reason: (err as Error).message }, 'etcd history read ended');
        return;
      }
      const kv = res.kvs[0];
      if (!kv) return; // the key did not exist yet at that revision
      const revision = Number(kv.mod_revision);
      yield { value: kv.value.toString(), revision };
      before = revision - 1;
    }
  }

  private openWatch(): void {
    if (this.stopped) return;
    const client = this.client as Etcd3;
    const from = this.lastApplied + 1;
    client.watchClient.watch(REQUIRE_LEADER).then(
      (stream) => this.attach(stream, from),
      (err: unknown) => this.watchFailed(undefined, err as Error),
    );
  }

  private attach(stream: WatchStream, from: number): void {
    const session: WatchSession = { stream, from, first: this.watchesOpened++ === 0, ended: false };
    if (this.stopped) {
      this.endSession(session);
      return;
    }
    this.session = session;
    stream.on('data', (res) => this.onWatchResponse(session, res));
    stream.on('error', (err) => this.watchFailed(session, err));
    stream.on('end', () => this.watchFailed(session, new Error('etcd closed the watch stream')));
    stream.write({
      create_request: { key: this.prefix, range_end: this.rangeEnd, start_revision: from, progress_notify: true },
    });
  }

  private onWatchResponse(session: WatchSession, res: IWatchResponse): void {
    if (session.ended) return;
    if (res.canceled || Number(res.compact_revision) > 0) {
      this.endSession(session);
      const compacted = Number(res.compact_revision) > 0;
      // After a compaction the re-read moves past it, so that case cannot repeat and needs no pacing.
      const delay = compacted ? 0 : this.refusedBackoff.next();
      this.log.warn(
        { resume_from: session.from, compact_revision: res.compact_revision, cancel_reason: res.cancel_reason || undefined, reread_in_ms: delay },
        compacted ? 'etcd watch start revision was compacted; re-reading the prefix' : 'etcd cancelled the watch; re-reading the prefix',
      );
      void pause(delay, this.stopping.signal).then(() => this.resync(compacted ? 'compaction' : 'watch cancelled'));
      return;
    }
    if (res.created && Number(res.header.revision) < session.from - 1) {
      // The store is behind what cwm already applied: etcd was restored from a backup (or replaced).
      // Its watch would wait silently for revisions that mean something else now; only a re-read is right.
      this.endSession(session);
      const delay = this.refusedBackoff.next();
      this.log.warn({ resume_from: session.from, store_revision: res.header.revision, reread_in_ms: delay }, 'etcd revision is behind the applied one (restored from a backup?); re-reading the prefix');
      void pause(delay, this.stopping.signal).then(() => this.resync('revision went back'));
      return;
    }
    if (res.created) {
      if (!session.first) this.options.metrics.watchReconnects.inc();
      this.backoff.reset();
      this.setConnected(true);
      this.log.info({ from: session.from, member_id: res.header.member_id }, 'etcd watch established');
    }
    if (res.events.length > 0) {
      this.refusedBackoff.reset();
      this.applyEvents(res.events);
    }
  }

  /**
   * etcd delivers all events of one revision (one transaction) in one
   * response, so events are compared with the revision applied before this
   * response, not with each other.
   */
  private applyEvents(events: IEvent[]): void {
    const sink = this.sink as ConfigSink;
    const before = this.lastApplied;
    for (const event of events) {
      const revision = Number(event.kv.mod_revision);
      if (revision <= before) continue;
      try {
        if (event.type === 'Put') {
          const entry = this.toEntry(event.kv);
          if (entry) sink.upsert(entry);
        } else {
          const source = event.kv.key.toString();
          const key = parseKey(this.options.settings.prefix, source);
          if (key) sink.remove(key, source);
        }
      } catch (err) {
        // The sink reports bad values itself; this guards the stream handler against anything unexpected.
        this.log.error({ key: event.kv.key.toString(), reason: (err as Error).message }, 'applying an etcd event failed');
      }
      if (revision > this.lastApplied) this.lastApplied = revision;
    }
    if (this.lastApplied > before) sink.revision(this.lastApplied);
  }

  private async resync(reason: string): Promise<void> {
    if (!this.stopped && (await this.load(reason))) this.openWatch();
  }

  /** Any stream failure: drop the stream and start a new one from lastApplied + 1 after a backoff. */
  private watchFailed(session: WatchSession | undefined, err: Error): void {
    if (session) {
      if (session.ended) return;
      this.endSession(session);
    }
    if (this.stopped) return;
    this.setConnected(false);
    const log = this.retryLog();
    const delay = this.backoff.next();
    log({ reason: err.message, resume_from: this.lastApplied + 1, retry_in_ms: delay }, 'etcd watch lost; reconnecting');
    void pause(delay, this.stopping.signal).then(() => this.openWatch());
  }

  /** The first failure of an outage is a warning; the retries that follow are debug noise. */
  private retryLog(): Logger['warn'] {
    return this.backoff.attempts === 0 ? this.log.warn.bind(this.log) : this.log.debug.bind(this.log);
  }

  private endSession(session: WatchSession): void {
    session.ended = true;
    if (this.session === session) this.session = undefined;
    // Cancelling makes grpc-js emit a CANCELLED 'error'; the listener must stay so that it is not unhandled.
    session.stream.on('error', () => undefined);
    session.stream.cancel();
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    if (!connected && !this.stopped) this.log.warn('etcd disconnected; serving the cached configuration');
    else if (connected) this.log.info('etcd connected');
  }
}
