/**
 * Client libraries (kafkajs, ioredis, bullmq: CommonJS) loaded on first use.
 * Together they add ~23 MB RSS and startup time to every process, yet many
 * deployments use only some of them, or only `log` outputs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
