/** The Redis connection of a name, looked up per request so a rebuilt connection is picked up at once. */
import type { ConnectionLookup, RedisConnection } from '../connections/types.js';
import type { Rejection } from './types.js';

export const STORE_UNAVAILABLE: Rejection = { status: 503, error: 'a Redis connection this webhook needs is unavailable; retry later', headers: { 'retry-after': '5' } };

/** The connection when it exists, is a Redis one and can take commands now; undefined fails fast (503). */
export async function readyRedis(connections: ConnectionLookup, name: string): Promise<RedisConnection | undefined> {
  const c = connections.get(name);
  if (c?.type !== 'redis') return undefined;
  return (await c.untilReady()) ? c : undefined;
}
