/**
 * `kafka` output: one record per delivery through the connection's shared
 * producer (acks=-1). The body goes out byte for byte as received; the
 * delivery id travels as the `cwm-delivery-id` header so consumers can drop
 * the duplicates that at-least-once delivery allows.
 */
import type { Delivery } from '../delivery/types.js';
import { connectionName, kafkaConnection } from './connection.js';
import { compileJsonPath } from './json-path.js';
import { optionalBoolean, optionalEnum, optionalInteger, optionalString } from './module-config.js';
import { nothingToClose, OutputConfigError, type BoundOutput, type OutputContext, type OutputModule, type OutputSpec } from './types.js';

export const DELIVERY_ID_HEADER = 'cwm-delivery-id';

type KeyOf = (delivery: Delivery) => string | null;

function keyFunction(key: string | undefined): KeyOf {
  if (key === undefined) return () => null;
  if (!key.startsWith('$')) return () => key;
  const read = compileJsonPath(key);
  return (delivery) => {
    const v = read(delivery.payload);
    if (v === undefined || v === null) return null;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
}

export const kafkaOutput: OutputModule = {
  name: 'kafka',
  bind(spec: OutputSpec, ctx: OutputContext): BoundOutput {
    const cfg = spec.moduleConfig;
    const name = connectionName(spec);
    const topic = optionalString(cfg, 'topic') ?? spec.topic;
    if (!topic) throw new OutputConfigError('kafka needs module-config.topic (or the top-level "topic")');
    const keyOf = keyFunction(optionalString(cfg, 'key'));
    const partition = optionalInteger(cfg, 'partition', 0);
    const forwardHeaders = optionalBoolean(cfg, 'forward_headers') ?? false;
    const compression = optionalEnum(cfg, 'compression', ['gzip', 'none'] as const) ?? 'none';
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = kafkaConnection(ctx.connections, name);
        const headers: Record<string, string> = forwardHeaders ? { ...delivery.headers } : {};
        headers[DELIVERY_ID_HEADER] = delivery.id;
        await conn.use(() => conn.producer.send({ topic, compression, records: [{ key: keyOf(delivery), value: delivery.rawBody, headers, partition }] }));
      },
      close: nothingToClose,
    };
  },
};
