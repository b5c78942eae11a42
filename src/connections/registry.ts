/** Every connection type cwm knows, one line each; the published connection schema is assembled from this list. */
import { activemqConnection } from './activemq.js';
import { clickhouseConnection } from './clickhouse.js';
import { kafkaConnection } from './kafka.js';
import { mysqlConnection } from './mysql.js';
import { postgresqlConnection } from './postgresql.js';
import { mqttConnection } from './mqtt.js';
import { natsConnection } from './nats.js';
import { rabbitmqConnection } from './rabbitmq.js';
import { redisConnection } from './redis.js';
import { s3Connection } from './s3.js';
import type { ConnectionType } from './types.js';

export const CONNECTION_TYPES: readonly ConnectionType[] = [
  kafkaConnection,
  redisConnection,
  postgresqlConnection,
  mysqlConnection,
  s3Connection,
  activemqConnection,
  clickhouseConnection,
  rabbitmqConnection,
  mqttConnection,
  natsConnection,
];

const byName: ReadonlyMap<string, ConnectionType> = new Map(CONNECTION_TYPES.flatMap((t) => [t.type, ...t.aliases].map((n) => [n, t] as const)));

/** The type for a connection config's `type` value (aliases included). */
export function findConnectionType(name: string): ConnectionType | undefined {
  return byName.get(name);
}
