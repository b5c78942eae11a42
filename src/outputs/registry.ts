/** Every output module, one line each; the published webhook schema's module list and module-config rules are assembled from it. */
import { kafkaOutput } from './kafka.js';
import { logOutput } from './log.js';
import { mqttOutput } from './mqtt.js';
import { natsOutput } from './nats.js';
import { rabbitmqOutput } from './rabbitmq.js';
import { redisPublishOutput } from './redis-publish.js';
import { redisQueueOutput } from './redis-queue.js';
import { redisStreamOutput } from './redis-stream.js';
import type { OutputModule } from './types.js';

export const OUTPUT_MODULES: readonly OutputModule[] = [
  logOutput,
  kafkaOutput,
  redisQueueOutput,
  redisPublishOutput,
  redisStreamOutput,
  rabbitmqOutput,
  mqttOutput,
  natsOutput,
];

const byName: ReadonlyMap<string, OutputModule> = new Map(OUTPUT_MODULES.flatMap((m) => [m.name, ...m.aliases].map((n) => [n, m] as const)));

export function findOutput(name: string): OutputModule | undefined {
  return byName.get(name);
}
