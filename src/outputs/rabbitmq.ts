/**
 * `rabbitmq` output: one persistent message per delivery, acknowledged to the
 * sender only once the broker's publisher confirm arrived. As in CWM the
 * queue is declared durable and, by default, published to on the default
 * exchange with the queue name as routing key; cwm adds a named exchange
 * (declared durable, the queue bound to it with the routing key). The body
 * goes out byte for byte as received; the request headers (credentials
 * removed) become message headers, and the delivery id travels as the
 * `cwm-delivery-id` header and in the message id so consumers can drop the
 * duplicates that at-least-once delivery allows.
 */
import { Type } from '@sinclair/typebox';
import { stringEnum } from '../schema-kit.js';
import { exchangeTypes, rabbitmqConnection } from '../connections/rabbitmq.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError } from '../errors.js';
import { DELIVERY_ID_HEADER } from './kafka.js';
import { defineOutput, nothingToClose } from './types.js';

/** CWM's queue-name rule (rabbitmq_module.py): letters, digits and _ - . : only; `amq.` is the broker's own. */
const QUEUE_NAME = '^(?![aA][mM][qQ]\\.)[a-zA-Z0-9_\\-.:]{1,255}$';

export const rabbitmqOutput = defineOutput({
  name: 'rabbitmq',
  connectionTypes: [rabbitmqConnection],
  schema: Type.Object(
    {
      queue_name: Type.Optional(Type.String({ pattern: QUEUE_NAME, description: "default: the webhook's top-level queue_name" })),
      exchange: Type.String({ pattern: '^(|(?![aA][mM][qQ]\\.)[a-zA-Z0-9_\\-.:]{1,255})$', default: '', description: "'' is the default exchange (routes by queue name)" }),
      exchange_type: stringEnum(exchangeTypes, { default: 'direct', description: 'declared durable when exchange is set' }),
      routing_key: Type.Optional(Type.String({ maxLength: 255, description: 'default: the queue name' })),
      include_headers: Type.Boolean({ default: true }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    const queue = cfg.queue_name ?? spec.queueName;
    if (queue !== undefined && !new RegExp(QUEUE_NAME).test(queue)) throw new ConfigError('/queue_name', 'must be 1-255 of letters, digits, _ - . : and not start with "amq."');
    if (cfg.exchange === '') {
      if (queue === undefined) throw new ConfigError('/module-config/queue_name', 'is required for rabbitmq (or the top-level "queue_name")');
      if (cfg.routing_key !== undefined && cfg.routing_key !== queue) throw new ConfigError('/module-config/routing_key', 'on the default exchange the routing key is the queue name; set "exchange" to route otherwise');
    }
    const routingKey = cfg.routing_key ?? queue;
    if (routingKey === undefined) throw new ConfigError('/module-config/routing_key', 'is required when publishing to an exchange without a queue_name');
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(name, rabbitmqConnection);
        const headers: Record<string, string> = cfg.include_headers ? { ...delivery.headers } : {};
        headers[DELIVERY_ID_HEADER] = delivery.id;
        await conn.use(() =>
          conn.client.publish({ exchange: cfg.exchange, exchangeType: cfg.exchange_type, routingKey, queue, body: delivery.rawBody, messageId: delivery.id, contentType: delivery.contentType, headers }),
        );
      },
      close: nothingToClose,
    };
  },
});
