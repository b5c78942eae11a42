/**
 * How outputs reach their shared connection: the name is checked when the
 * webhook is bound, the client is looked up per delivery (so a changed or
 * late-added connection is picked up at once), and a missing, wrong-typed or
 * disconnected one is an OutputUnavailableError (503, the sender retries).
 */
import type { ConnectionLookup, KafkaConnection, RedisConnection } from '../connections/types.js';
import { OutputConfigError, OutputUnavailableError, type OutputSpec } from './types.js';

export function connectionName(spec: OutputSpec): string {
  if (!spec.connection) throw new OutputConfigError(`module ${spec.module} needs a "connection" (a name under global/connections)`);
  return spec.connection;
}

export function kafkaConnection(lookup: ConnectionLookup, name: string): KafkaConnection {
  const conn = lookup.get(name);
  if (!conn) throw new OutputUnavailableError(`connection "${name}" is missing or invalid`);
  if (conn.type !== 'kafka') throw new OutputUnavailableError(`connection "${name}" is ${conn.type}, not kafka`);
  return conn;
}

export async function redisConnection(lookup: ConnectionLookup, name: string): Promise<RedisConnection> {
  const conn = lookup.get(name);
  if (!conn) throw new OutputUnavailableError(`connection "${name}" is missing or invalid`);
  if (conn.type !== 'redis') throw new OutputUnavailableError(`connection "${name}" is ${conn.type}, not redis`);
  // Known down: fail now rather than wait out the output timeout.
  if (!(await conn.untilReady())) throw new OutputUnavailableError(`redis connection "${name}" is not connected`);
  return conn;
}
