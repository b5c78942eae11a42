/**
 * `mqtt` output: one PUBLISH per delivery, acknowledged to the sender once the
 * broker's PUBACK (QoS 1, the default) or PUBCOMP (QoS 2) arrived. QoS 0 is
 * fire-and-forget: answered 2xx once written to the socket, with no broker
 * acknowledgement, so it can lose messages; only use it when configured so.
 * Message and topic follow CWM (format json/raw, Shelly Gen2 and Tasmota
 * shapes, topic_prefix); CWM's topic rules are the schema's patterns.
 */
import { Type } from '@sinclair/typebox';
import { mqttConnection, type Qos } from '../connections/mqtt.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError } from '../errors.js';
import { stringEnum } from '../schema-kit.js';
import { defineOutput, nothingToClose } from './types.js';

/** CWM's topic rule (mqtt.py): [A-Za-z0-9_-./] only (so no wildcards and no leading $), no "..", "--" or "//", not only slashes. */
export const MQTT_TOPIC = '^(?!.*\\.\\.)(?!.*--)(?!.*//)(?=.*[^/])[a-zA-Z0-9_\\-./]{1,32768}$';
const topicString = (description: string): ReturnType<typeof Type.String> => Type.String({ pattern: MQTT_TOPIC, description });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** What CWM's `str(payload)` gives for scalars, for the cases that have a sensible JSON equivalent. */
function text(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload);
  return Buffer.from(JSON.stringify(payload) ?? '');
}

export const mqttOutput = defineOutput({
  name: 'mqtt',
  connectionTypes: [mqttConnection],
  schema: Type.Object(
    {
      topic: Type.Optional(topicString("default: the webhook's top-level topic")),
      qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1, description: '0 is fire-and-forget (no broker acknowledgement)' }),
      retained: Type.Boolean({ default: false }),
      format: stringEnum(['json', 'raw'] as const, { default: 'json' }),
      topic_prefix: Type.Optional(topicString('prepended as "<prefix>/<topic>"')),
      shelly_gen2_format: Type.Boolean({ default: false }),
      device_id: Type.String({ default: 'webhook' }),
      tasmota_format: Type.Boolean({ default: false }),
      tasmota_type: stringEnum(['cmnd', 'stat', 'tele'] as const, { default: 'cmnd' }),
      device_name: Type.String({ pattern: MQTT_TOPIC, default: 'webhook' }),
      command: Type.String({ pattern: MQTT_TOPIC, default: 'webhook' }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    let topic = cfg.topic ?? spec.topic;
    if (topic === undefined) throw new ConfigError('/module-config/topic', 'is required for mqtt (or the top-level "topic")');
    if (!new RegExp(MQTT_TOPIC).test(topic)) throw new ConfigError('/topic', 'must be letters, digits and _ - . / only, without "..", "--" or "//"');
    if (cfg.tasmota_format && !cfg.shelly_gen2_format) {
      topic = cfg.tasmota_type === 'cmnd' ? `cmnd/${cfg.device_name}/${cfg.command}` : cfg.tasmota_type === 'stat' ? `stat/${cfg.device_name}/status` : `tele/${cfg.device_name}/telemetry`;
    }
    if (cfg.topic_prefix !== undefined) {
      const prefix = cfg.topic_prefix.replace(/\/+$/, '');
      topic = topic.startsWith('/') ? `${prefix}${topic}` : `${prefix}/${topic}`;
    }
    const finalTopic = topic;
    const qos: Qos = cfg.qos;
    const message = (d: Delivery): Buffer => {
      if (cfg.shelly_gen2_format) return Buffer.from(JSON.stringify({ id: cfg.device_id, source: 'webhook', params: isObject(d.payload) ? d.payload : { data: jsonable(d.payload) } }));
      if (cfg.tasmota_format) return Buffer.from(JSON.stringify(isObject(d.payload) ? d.payload : { data: jsonable(d.payload) }));
      // json: the body as received is already JSON; raw: the bytes as received (blob) or the string's text.
      if (cfg.format === 'raw' && typeof d.payload === 'string') return Buffer.from(d.payload);
      return Buffer.isBuffer(d.payload) || isObject(d.payload) || Array.isArray(d.payload) ? d.rawBody : text(d.payload);
    };
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(name, mqttConnection);
        await conn.use(() => conn.client.publish(finalTopic, message(delivery), qos, cfg.retained));
      },
      close: nothingToClose,
    };
  },
});

/** Blob bytes inside a JSON wrapper travel as base64. */
function jsonable(payload: unknown): unknown {
  return Buffer.isBuffer(payload) ? payload.toString('base64') : payload;
}
