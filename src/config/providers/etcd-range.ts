/**
 * Key-range arithmetic for etcd and the paginated, revision-pinned prefix
 * read. Pages keep every gRPC message small however many keys there are, and
 * pinning all pages to the first page's revision makes the result one
 * consistent snapshot, so the watch can start right after it.
 */

/** The exclusive end of the range holding every key that starts with `prefix` (etcd's "prefix + 1"). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  // A prefix of only 0xff bytes (or empty) has no successor: "\0" means "to the end of the keyspace".
  return Buffer.from([0]);
}

/** The smallest key sorting after `key`: where the next page starts. Works on bytes, not strings, so any key is exact. */
export function keyAfter(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}

export interface RangePageRequest {
  key: Buffer;
  range_end: Buffer;
  limit: number;
  /** 0 on the first page: "now"; later pages repeat the first page's revision. */
  revision: number;
}

export interface RangePage<KV extends { key: Buffer }> {
  kvs: KV[];
  more: boolean;
  header: { revision: string };
}

export interface Snapshot<T> {
  /** What `convert` made of each key (keys it dropped are not here). */
  items: T[];
  /** Keys read, dropped ones included. */
  keys: number;
  /** The store revision the whole snapshot reflects. */
  revision: number;
  pages: number;
}

/**
 * Reads every key in [start, end) page by page, all pages at the revision of
 * the first, converting each page as it arrives: the decoded page (its
 * buffers ~1 MB per 5000 keys) is garbage before the next one is read, so it
 * dies young instead of waiting, promoted, for a full collection (with 25 000
 * keys, ~10 MB less resident at /ready).
 */
export async function readRangeSnapshot<KV extends { key: Buffer }, T>(
  range: (req: RangePageRequest) => Promise<RangePage<KV>>,
  start: Buffer,
  end: Buffer,
  pageSize: number,
  convert: (kv: KV) => T | undefined,
): Promise<Snapshot<T>> {
  const items: T[] = [];
  let keys = 0;
  let revision = 0;
  let from = start;
  let pages = 0;
  for (;;) {
    const page = await range({ key: from, range_end: end, limit: pageSize, revision });
    pages++;
    if (revision === 0) revision = Number(page.header.revision);
    keys += page.kvs.length;
    for (const kv of page.kvs) {
      const item = convert(kv);
      if (item !== undefined) items.push(item);
    }
    const last = page.kvs[page.kvs.length - 1];
    if (!page.more || last === undefined) return { items, keys, revision, pages };
    from = keyAfter(last.key);
  }
}
