/**
 * The one interface between where configuration comes from (file, etcd) and
 * the core. Providers only produce raw entries; they never parse webhook
 * semantics, touch HTTP or build outputs.
 */
import type { EntryKey } from './keys.js';

export interface RawEntry {
  readonly key: EntryKey;
  /** The value exactly as stored (JSON text); the sink parses and validates it. */
  readonly value: string;
  /** Where it came from, for log lines: an etcd key or a file path + name. */
  readonly source: string;
  /** The store revision that wrote this value (etcd mod_revision); absent for files. */
  readonly revision?: number;
  /** Earlier values of this key, when the store keeps them (etcd, until compaction). */
  readonly history?: EntryHistory;
}

/** One earlier value of a key. */
export interface PastValue {
  readonly value: string;
  readonly revision: number;
}

/**
 * A store that keeps earlier values (etcd's MVCC history). Shared by every
 * entry of a provider, so tens of thousands of entries hold one reference,
 * not one closure each.
 */
export interface EntryHistory {
  /** Earlier values of `entry`'s key, newest first, until the key's creation or the store's compaction. */
  older(entry: RawEntry): AsyncIterable<PastValue>;
}

export interface ConfigSink {
  /** One entry was written: O(1) work for the sink. */
  upsert(entry: RawEntry): void;
  /** One entry was removed. */
  remove(key: EntryKey, source: string): void;
  /** The complete current state (startup, file reload, etcd compaction): the sink applies only what differs. */
  replaceAll(entries: Iterable<RawEntry>): void;
  /** The provider applied this store revision (etcd mod_revision; file reload counter). */
  revision(revision: number): void;
}

export type SourceState = 'healthy' | 'disconnected';

export interface ConfigProvider {
  /** Short name for health output and logs: "file" or "etcd". */
  readonly name: string;
  /**
   * Starts delivering configuration to the sink. Resolves once the initial
   * state has been delivered; when the source is unreachable it keeps
   * retrying in the background and resolves when it finally loads.
   */
  start(sink: ConfigSink): Promise<void>;
  /** Connection state of the source right now. */
  state(): SourceState;
  stop(): Promise<void>;
}
