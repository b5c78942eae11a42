/**
 * Secrets read from Vault, kept for VAULT_CACHE_TTL_SECONDS: a config change
 * or a reload that references the same path does not ask Vault again until
 * then, and concurrent reads of one path (tens of webhooks loaded at startup)
 * share one request. "Not found" answers are not kept, so a secret written
 * after the config is found on the next read.
 */
import type { SecretData, VaultClient } from './client.js';

interface Entry {
  readonly data: Readonly<Record<string, unknown>>;
  readonly expiresAt: number;
}

export class SecretCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<SecretData>>();

  constructor(
    private readonly client: Pick<VaultClient, 'read'>,
    private readonly ttlMs: number,
    private readonly maxSize: number,
    private readonly now: () => number = Date.now,
  ) {}

  async read(path: string): Promise<SecretData> {
    const hit = this.entries.get(path);
    if (hit && hit.expiresAt > this.now()) return hit.data;
    let pending = this.inflight.get(path);
    if (!pending) {
      pending = this.client.read(path).finally(() => this.inflight.delete(path));
      this.inflight.set(path, pending);
    }
    const data = await pending;
    if (data !== undefined) this.keep(path, data);
    return data;
  }

  private keep(path: string, data: Readonly<Record<string, unknown>>): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(path);
    if (this.entries.size >= this.maxSize) this.evict();
    this.entries.set(path, { data, expiresAt: this.now() + this.ttlMs });
  }

  /** Expired entries first; if none, the one expiring soonest (with one TTL, the oldest: Map order). */
  private evict(): void {
    const now = this.now();
    for (const [path, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(path);
    if (this.entries.size < this.maxSize) return;
    const oldest = this.entries.keys().next();
    if (oldest.done !== true) this.entries.delete(oldest.value);
  }
}
