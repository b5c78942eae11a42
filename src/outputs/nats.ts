/**
 * `nats` output (cwm only; CWM has none): one JetStream publish per delivery,
 * acknowledged to the sender once the stream's PubAck arrived, i.e. the
 * stream stored it. The delivery id is the JetStream message id
 * (Nats-Msg-Id), so a sender's retry inside the stream's duplicate window
 * (2 minutes by default) is not stored twice. The body goes out byte for
 * byte as received.
 */
import { Type } from '@sinclair/typebox';
import { natsConnection } from '../connections/nats.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError } from '../errors.js';
import { defineOutput, nothingToClose } from './types.js';

/** A concrete subject: dot-separated tokens, no wildcards or whitespace. */
const SUBJECT = '^[^.*>\\s]+(\\.[^.*>\\s]+)*$';
const STREAM = '^[^.*>\\s/\\\\]{1,255}$';

export const natsOutput = defineOutput({
  name: 'nats',
  connectionTypes: [natsConnection],
  schema: Type.Object(
    {
      subject: Type.Optional(Type.String({ pattern: SUBJECT, description: "default: the webhook's top-level topic" })),
      stream: Type.Optional(Type.String({ pattern: STREAM, description: 'the stream that must store it (publish fails if another stream or none takes the subject)' })),
      create_stream: Type.Boolean({ default: false, description: 'create `stream` (file storage, subjects [subject]) if it does not exist' }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    const subject = cfg.subject ?? spec.topic;
    if (subject === undefined) throw new ConfigError('/module-config/subject', 'is required for nats (or the top-level "topic")');
    if (!new RegExp(SUBJECT).test(subject)) throw new ConfigError('/topic', 'must be a NATS subject without wildcards');
    if (cfg.create_stream && cfg.stream === undefined) throw new ConfigError('/module-config/stream', 'is required when create_stream is true');
    const stream = cfg.stream;
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(name, natsConnection);
        await conn.use(async () => {
          if (cfg.create_stream && stream !== undefined) await conn.client.ensureStream({ name: stream, subjects: [subject] });
          await conn.client.publish(subject, delivery.rawBody, delivery.id, stream);
        });
      },
      close: nothingToClose,
    };
  },
});
