/** Every output module, one line each; the published webhook schema's module list and module-config rules are assembled from it. */
import { httpWebhookOutput } from './http-webhook.js';
import { activemqOutput } from './activemq.js';
import { clickhouseOutput } from './clickhouse.js';
import { kafkaOutput } from './kafka.js';
import { logOutput } from './log.js';
import { mysqlOutput } from './mysql.js';
import { postgresqlOutput } from './postgresql.js';
import { mqttOutput } from './mqtt.js';
import { natsOutput } from './nats.js';
import { rabbitmqOutput } from './rabbitmq.js';
import { redisPublishOutput } from './redis-publish.js';
import { redisQueueOutput } from './redis-queue.js';
import { redisRqOutput } from './redis-rq.js';
import { redisStreamOutput } from './redis-stream.js';
import { saveToDiskOutput } from './save-to-disk.js';
import type { OutputModule } from './types.js';
import { websocketOutput } from './websocket.js';
import { s3Output } from './s3.js';
import { zeromqOutput } from './zeromq.js';
import { awsSqsOutput, gcpPubsubOutput } from './unsupported.js';

export const OUTPUT_MODULES: readonly OutputModule[] = [
  logOutput,
  kafkaOutput,
  redisQueueOutput,
  redisRqOutput,
  redisPublishOutput,
  redisStreamOutput,
  postgresqlOutput,
  mysqlOutput,
  httpWebhookOutput,
  saveToDiskOutput,
  websocketOutput,
  s3Output,
  activemqOutput,
  zeromqOutput,
  clickhouseOutput,
  awsSqsOutput,
  gcpPubsubOutput,
  rabbitmqOutput,
  mqttOutput,
  natsOutput,
];

const byName: ReadonlyMap<string, OutputModule> = new Map(OUTPUT_MODULES.flatMap((m) => [m.name, ...m.aliases].map((n) => [n, m] as const)));

export function findOutput(name: string): OutputModule | undefined {
  return byName.get(name);
}
