/** The one place output modules are registered by name, with CWM's aliases. Keep schema/webhook.schema.json's module enum in step. */
import { kafkaOutput } from './kafka.js';
import { logOutput } from './log.js';
import { redisPublishOutput } from './redis-publish.js';
import { redisQueueOutput } from './redis-queue.js';
import { redisStreamOutput } from './redis-stream.js';
import type { OutputModule } from './types.js';

const modules: ReadonlyMap<string, OutputModule> = new Map<string, OutputModule>([
  ['log', logOutput],
  ['kafka', kafkaOutput],
  ['redis_queue', redisQueueOutput],
  ['redis_rq', redisQueueOutput],
  ['redis_publish', redisPublishOutput],
  ['redis_stream', redisStreamOutput],
]);

export function findOutput(name: string): OutputModule | undefined {
  return modules.get(name);
}

export function outputNames(): string[] {
  return [...modules.keys()];
}
