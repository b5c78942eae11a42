/**
 * Shared connections (`<prefix>global/connections/<name>`): one client per
 * connection config, reused by every delivery, rebuilt when the config changes.
 */
import type { Redis } from 'ioredis';
import type { KafkaProducer } from './kafka-client.js';

export interface ConnectionLookup {
  /** The live connection of that name, or undefined when it is missing or invalid. */
  get(name: string): Connection | undefined;
}

export interface Closable {
  close(): Promise<void>;
}

interface ConnectionBase {
  readonly name: string;
  /** Bumped whenever the config changes: a new generation is a new client. */
  readonly generation: number;
  /** Runs work on this client; a replaced client is closed only after such work settled. */
  use<T>(work: () => Promise<T>): Promise<T>;
  /** An object derived from this client (e.g. a BullMQ Queue), built once per key and closed with the client. */
  shared<T extends Closable>(key: string, create: () => T): T;
}

export interface KafkaConnection extends ConnectionBase {
  readonly type: 'kafka';
  readonly producer: KafkaProducer;
}

export interface RedisConnection extends ConnectionBase {
  readonly type: 'redis';
  readonly redis: Redis;
  /** True once commands can be sent; false at once while Redis is known down (fail fast, no offline queue). */
  untilReady(): Promise<boolean>;
}

export type Connection = KafkaConnection | RedisConnection;
