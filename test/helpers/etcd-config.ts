/** Values and environment shared by the tests that run cwm on etcd. */

/** The simplest valid webhook: accepted and logged. */
export const LOG_HOOK = JSON.stringify({ module: 'log' });

/** Observably different from LOG_HOOK: a probe body without order_id answers 422, so tests can see which version is active. */
export const STRICT_HOOK = JSON.stringify({ module: 'log', json_schema: { type: 'object', required: ['order_id'] } });

/** cwm on etcd with a short reconnect cap, so recoveries in tests take well under a second. */
export function etcdEnv(endpoints: readonly string[] | string, extra: Record<string, string> = {}): Record<string, string> {
  return { CONFIG_BACKEND: 'etcd', ETCD_ENDPOINTS: typeof endpoints === 'string' ? endpoints : endpoints.join(','), ETCD_BACKOFF_MAX_MS: '500', ...extra };
}
