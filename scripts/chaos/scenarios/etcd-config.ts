/** What both etcd scenarios share: log webhooks under /cwm/chaos/, cwm on the etcd backend, live puts measured until served. */
import { waitForStatus } from '../../../test/helpers/cwm-http.js';
import type { CwmProcess } from '../../../test/helpers/cwm-process.js';
import type { EtcdCluster } from '../../../test/helpers/etcd.js';
import { waitFor } from '../../../test/helpers/ports.js';

export const NAMESPACE = 'chaos';
export const LOG_HOOK = JSON.stringify({ module: 'log', 'module-config': { include_headers: false } });

export const hookKey = (id: string): string => `/cwm/${NAMESPACE}/webhooks/${id}`;
export const hookPath = (id: string): string => `/webhook/${NAMESPACE}/${id}`;

export function cwmEnv(etcd: EtcdCluster): Record<string, string> {
  return { CONFIG_BACKEND: 'etcd', ETCD_ENDPOINTS: etcd.endpoints.join(','), ETCD_BACKOFF_MAX_MS: '500' };
}

/** Puts log webhooks hook0..hook<n-1> and resolves their paths: the sender's rotation, which grows with new webhooks. */
export async function seedHooks(etcd: EtcdCluster, n: number): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    await etcd.ctl('put', hookKey(`hook${i}`), LOG_HOOK);
    paths.push(hookPath(`hook${i}`));
  }
  return paths;
}

export interface Change {
  /** Attempts etcdctl needed (a put proposed while there is no leader fails after etcd's request timeout). */
  readonly tries: number;
  /** From the put's acknowledgement to cwm serving the new state (polled every 25 ms). */
  readonly appliedMs: number;
}

/** etcdctl put (retried until acknowledged, bounded), then polls cwm until the webhook answers 200. */
export async function putHook(etcd: EtcdCluster, cwm: CwmProcess, id: string): Promise<Change> {
  let tries = 0;
  await waitFor(() => (tries++, etcd.ctl('put', hookKey(id), LOG_HOOK).then(() => true)), 30_000, `put ${id}`, 100);
  const ackAt = Date.now();
  await waitForStatus(cwm, hookPath(id), 200, 30_000);
  return { tries, appliedMs: Date.now() - ackAt };
}

/** etcdctl del, then polls cwm until the webhook answers 404. */
export async function deleteHook(etcd: EtcdCluster, cwm: CwmProcess, id: string): Promise<Change> {
  let tries = 0;
  await waitFor(() => (tries++, etcd.ctl('del', hookKey(id)).then(() => true)), 30_000, `del ${id}`, 100);
  const ackAt = Date.now();
  await waitForStatus(cwm, hookPath(id), 404, 30_000);
  return { tries, appliedMs: Date.now() - ackAt };
}
