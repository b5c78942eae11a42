/**
 * The etcd key layout shared with the Python CWM, and the one name rule for
 * namespaces, webhook ids and connection names.
 */

export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export type EntryKey =
  | { readonly kind: 'webhook'; readonly namespace: string; readonly id: string }
  | { readonly kind: 'connection'; readonly name: string };

/** The namespace segment under which shared connections live. */
export const GLOBAL_NAMESPACE = 'global';

/**
 * Maps `<prefix><ns>/webhooks/<id>` and `<prefix>global/connections/<name>`
 * to an entry key; anything else under the prefix is not ours (null).
 */
export function parseKey(prefix: string, key: string): EntryKey | null {
  if (!key.startsWith(prefix)) return null;
  const parts = key.slice(prefix.length).split('/');
  if (parts.length !== 3) return null;
  const [first, kind, last] = parts as [string, string, string];
  if (kind === 'connections' && first === GLOBAL_NAMESPACE) {
    return isValidName(last) ? { kind: 'connection', name: last } : null;
  }
  if (kind === 'webhooks' && isValidName(first) && isValidName(last)) {
    return { kind: 'webhook', namespace: first, id: last };
  }
  return null;
}

export function formatKey(prefix: string, entry: EntryKey): string {
  return entry.kind === 'webhook'
    ? `${prefix}${entry.namespace}/webhooks/${entry.id}`
    : `${prefix}${GLOBAL_NAMESPACE}/connections/${entry.name}`;
}

/** A string identity for an entry key, usable as a Map key; '/' cannot occur in names. */
export function entryId(entry: EntryKey): string {
  return entry.kind === 'webhook' ? `w/${entry.namespace}/${entry.id}` : `c/${entry.name}`;
}

/**
 * CWM's files annotate themselves with `"_comment": "..."` entries; a string
 * under a name starting with `_comment` is such a note, never a config, so the
 * file backend, `cwm import` and `cwm validate --many` skip it.
 */
export function isCommentEntry(name: string, value: unknown): boolean {
  return name.startsWith('_comment') && typeof value === 'string';
}
