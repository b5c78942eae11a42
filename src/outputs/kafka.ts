/**
 * `kafka` output: one record per delivery through the connection's shared
 * producer (acks=-1). The body goes out byte for byte as received; the
 * delivery id travels as the `cwm-delivery-id` header so consumers can drop
 * the duplicates that at-least-once delivery allows.
 */
import { stringEnum } from '../schema-kit.js';
import { Type } from '@sinclair/typebox';
import { kafkaConnection } from '../connections/kafka.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError } from '../errors.js';
import { compileJsonPath } from './json-path.js';
import { defineOutput, nothingToClose } from './types.js';

export const DELIVERY_ID_HEADER = 'cwm-delivery-id';

type KeyOf = (delivery: Delivery) => string | null;

function keyFunction(key: string | undefined): KeyOf {
  if (key === undefined) return () => null;
  if (!key.startsWith('$')) return () => key;
  let read: (value: unknown) => unknown;
  try {
    read = compileJsonPath(key);
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError('/module-config/key', err.reason) : err;
  }
  return (delivery) => {
    const v = read(delivery.payload);
    if (v === undefined || v === null) return null;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
}

export const kafkaOutput = defineOutput({
  name: 'kafka',
  connectionTypes: [kafkaConnection],
  schema: Type.Object(
    {
      topic: Type.Optional(Type.String({ minLength: 1, description: "default: the webhook's top-level topic" })),
      key: Type.Optional(Type.String({ minLength: 1, description: 'a static key or a $.json.path into the payload' })),
      partition: Type.Optional(Type.Integer({ minimum: 0 })),
      forward_headers: Type.Boolean({ default: false }),
      compression: stringEnum(['gzip', 'none'] as const, { default: 'none' }),
      bootstrap_servers: Type.Optional(Type.String({ description: "accepted and not used, as in CWM: the brokers are the connection's bootstrap_servers" })),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    const topic = cfg.topic ?? spec.topic;
    if (!topic) throw new ConfigError('/module-config/topic', 'is required for kafka (or the top-level "topic")');
    const keyOf = keyFunction(cfg.key);
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(name, kafkaConnection);
        const headers: Record<string, string> = cfg.forward_headers ? { ...delivery.headers } : {};
        headers[DELIVERY_ID_HEADER] = delivery.id;
        await conn.use(() => conn.client.send({ topic, compression: cfg.compression, records: [{ key: keyOf(delivery), value: delivery.rawBody, headers, partition: cfg.partition }] }));
      },
      close: nothingToClose,
    };
  },
});
