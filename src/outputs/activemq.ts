/**
 * `activemq`: one persistent STOMP SEND per delivery to `/queue/<destination>`
 * or `/topic/<destination>`, acknowledged on the broker's RECEIPT. Body as
 * CWM sends it: the JSON payload serialized (blob webhooks: the bytes as
 * received). Request headers travel as STOMP headers, as in CWM, except the
 * names STOMP and JMS give a meaning (a request's `content-length` must not
 * frame the message); `cwm-delivery-id` carries the delivery id.
 */
import { Type } from '@sinclair/typebox';
import { activemqConnection } from '../connections/activemq.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError } from '../errors.js';
import { stringEnum } from '../schema-kit.js';
import { defineOutput, nothingToClose } from './types.js';

const RESERVED = new Set(['content-length', 'content-type', 'destination', 'receipt', 'persistent', 'transaction', 'ack', 'id', 'subscription', 'message-id', 'expires', 'priority', 'correlation-id', 'reply-to', 'type', 'host', 'login', 'passcode']);
/** CWM refuses broker-internal destination prefixes (activemq.py). */
const RESERVED_PREFIXES = ['activemq.', 'virtualtopic.', 'consumer.', 'queue.', 'topic.'];

function headersOf(delivery: Delivery): Record<string, string> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(delivery.headers)) {
    if (RESERVED.has(name) || name.startsWith('jms') || name.startsWith('activemq')) continue;
    headers[name] = value;
  }
  headers['cwm-delivery-id'] = delivery.id;
  headers['content-type'] = Buffer.isBuffer(delivery.payload) ? delivery.contentType || 'application/octet-stream' : 'application/json';
  return headers;
}

export const activemqOutput = defineOutput({
  name: 'activemq',
  connectionTypes: [activemqConnection],
  schema: Type.Object(
    {
      destination: Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9_.:-]+$' }),
      destination_type: stringEnum(['queue', 'topic'] as const, { default: 'queue' }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const lower = cfg.destination.toLowerCase();
    if (cfg.destination.includes('..') || cfg.destination.includes('--')) throw new ConfigError('/module-config/destination', 'must not contain ".." or "--"');
    if (RESERVED_PREFIXES.some((p) => lower.startsWith(p))) throw new ConfigError('/module-config/destination', 'must not start with a broker-reserved prefix (ActiveMQ., VirtualTopic., Consumer., Queue., Topic.)');
    const destination = `/${cfg.destination_type}/${cfg.destination}`;
    const name = spec.connection;
    return {
      async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
        const conn = await ctx.connections.ready(name, activemqConnection);
        const body = Buffer.isBuffer(delivery.payload) ? delivery.payload : Buffer.from(JSON.stringify(delivery.payload));
        await conn.use(() => conn.client.send({ destination, headers: headersOf(delivery), body }, signal));
      },
      close: nothingToClose,
    };
  },
});
