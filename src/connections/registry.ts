/** Every connection type cwm knows, one line each; the published connection schema is assembled from this list. */
import { kafkaConnection } from './kafka.js';
import { mqttConnection } from './mqtt.js';
import { natsConnection } from './nats.js';
import { rabbitmqConnection } from './rabbitmq.js';
import { redisConnection } from './redis.js';
import type { ConnectionType } from './types.js';

export const CONNECTION_TYPES: readonly ConnectionType[] = [
  kafkaConnection,
  redisConnection,
  rabbitmqConnection,
  mqttConnection,
  natsConnection,
];

const byName: ReadonlyMap<string, ConnectionType> = new Map(CONNECTION_TYPES.flatMap((t) => [t.type, ...t.aliases].map((n) => [n, t] as const)));

/** The type for a connection config's `type` value (aliases included). */
export function findConnectionType(name: string): ConnectionType | undefined {
  return byName.get(name);
}
