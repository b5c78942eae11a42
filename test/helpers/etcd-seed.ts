/** Writes many keys into etcd fast: transactions of etcd's default --max-txn-ops, a few in flight. */
import type { Etcd3 } from 'etcd3';

/** etcd's default --max-txn-ops. */
export const TXN_OPS = 128;

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export async function putMany(client: Etcd3, entries: readonly KeyValue[], inFlight = 8): Promise<void> {
  const batches: KeyValue[][] = [];
  for (let i = 0; i < entries.length; i += TXN_OPS) batches.push(entries.slice(i, i + TXN_OPS));
  const workers = Array.from({ length: inFlight }, async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      await client.kv.txn({ success: batch.map((op) => ({ request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value) } })) });
    }
  });
  await Promise.all(workers);
}

/** A realistic log webhook value of ~200 bytes. */
export function logHookValue(label: string): string {
  // The label pads the value to a realistic size in a field every module accepts (CWM's top-level topic; log ignores it).
  return JSON.stringify({ module: 'log', 'module-config': { pretty_print: false, redact_sensitive: true }, topic: label.padEnd(120, '.') });
}

/** A log webhook as teams write them: its own bearer token and a rate limit (~200 bytes). */
export function securedHookValue(label: string): string {
  return JSON.stringify({ module: 'log', authorization: `Bearer tok-${label}`.padEnd(48, 'x'), rate_limit: { max_requests: 100, window_seconds: 60 }, topic: label.padEnd(60, '.') });
}

/** `namespaces` × `perNamespace` webhooks: /cwm/ns<i>/webhooks/hook<j>, log webhooks unless `value` says otherwise. */
export function gridEntries(namespaces: number, perNamespace: number, prefix = '/cwm/', value: (label: string) => string = logHookValue): KeyValue[] {
  const entries: KeyValue[] = [];
  for (let ns = 0; ns < namespaces; ns++) {
    for (let id = 0; id < perNamespace; id++) entries.push({ key: `${prefix}ns${ns}/webhooks/hook${id}`, value: value(`ns${ns}-hook${id}`) });
  }
  return entries;
}
