/**
 * Forms CWM's configs use that the published schema writes one way only,
 * rewritten before validation so the rest of cwm sees one shape. The rewrite
 * happens on the receiver's own copy; what is stored stays as written.
 *
 * - A chain entry given as a bare module name (`"chain": ["log", "s3"]`)
 *   becomes `{"module": "log"}`.
 * - An output that names no `connection` gets the operator's default for its
 *   connection type (DEFAULT_CONNECTIONS), when one is set; without one the
 *   schema refuses it as before.
 * - redis_publish's top-level `redis` block (CWM: `host`, `port`, `channel`):
 *   its `channel` becomes `module-config.channel` (module-config wins). Its
 *   `host`/`port` are not connected to: cwm sends only through connections
 *   the operator configured, so the block is accepted only together with a
 *   `connection` (named or the default).
 * - A chain entry inherits the webhook's top-level `topic`, `queue_name`
 *   and (for modules that send through a connection) `connection` when it
 *   has none of its own, as CWM builds each entry from the webhook's config.
 * - s3 connections' `access_key_id` / `secret_access_key` (CWM's agent docs)
 *   are `aws_access_key_id` / `aws_secret_access_key`.
 * - http_webhook's `module-config.custom_headers` (CWM's agent docs: "additional
 *   headers to add") is `headers`, the field CWM's module reads. CWM itself
 *   ignored it and sent no extra header; cwm sends them, as the docs say.
 * In each rename the canonical name wins: given both, the alias is left for
 * the schema to refuse.
 */
import { findOutput } from '../outputs/registry.js';
import type { EntryKind } from './validation.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The fields of CWM's redis block; a block with anything else is left for the schema to refuse. */
const REDIS_BLOCK_FIELDS: ReadonlySet<string> = new Set(['host', 'port', 'channel', 'db', 'allowed_hosts']);

function defaultConnection(output: Record<string, unknown>, defaults: ReadonlyMap<string, string>): void {
  if (defaults.size === 0 || Object.hasOwn(output, 'connection') || typeof output.module !== 'string') return;
  const module = findOutput(output.module);
  if (!module) return;
  for (const type of module.connectionTypes) {
    const name = [type.type, ...type.aliases].map((t) => defaults.get(t)).find((n) => n !== undefined);
    if (name !== undefined) {
      output.connection = name;
      return;
    }
  }
}

function redisBlock(output: Record<string, unknown>): void {
  if (output.module !== 'redis_publish' || !Object.hasOwn(output, 'redis') || !Object.hasOwn(output, 'connection')) return;
  const block = output.redis;
  if (!isObject(block) || !Object.keys(block).every((k) => REDIS_BLOCK_FIELDS.has(k))) return;
  const config = Object.hasOwn(output, 'module-config') ? output['module-config'] : {};
  if (!isObject(config)) return;
  if (block.channel !== undefined && !Object.hasOwn(config, 'channel')) config.channel = block.channel;
  output['module-config'] = config;
  delete output.redis;
}

/** `alias` becomes `name` unless `name` is there already. */
function renameAlias(value: Record<string, unknown>, alias: string, name: string): void {
  if (!Object.hasOwn(value, alias) || Object.hasOwn(value, name)) return;
  value[name] = value[alias];
  delete value[alias];
}

function httpHeadersAlias(output: Record<string, unknown>): void {
  const config = output['module-config'];
  if (output.module === 'http_webhook' && isObject(config)) renameAlias(config, 'custom_headers', 'headers');
}

function normalizeOutput(output: Record<string, unknown>, defaults: ReadonlyMap<string, string>): void {
  defaultConnection(output, defaults);
  redisBlock(output);
  httpHeadersAlias(output);
}

const INHERITED = ['topic', 'queue_name'] as const;

/** CWM's chain processor starts each entry from a copy of the webhook's config. */
function inherit(webhook: Record<string, unknown>, entry: Record<string, unknown>): void {
  for (const field of INHERITED) if (Object.hasOwn(webhook, field) && !Object.hasOwn(entry, field)) entry[field] = webhook[field];
  if (!Object.hasOwn(webhook, 'connection') || Object.hasOwn(entry, 'connection') || typeof entry.module !== 'string') return;
  if ((findOutput(entry.module)?.connectionTypes.length ?? 0) > 0) entry.connection = webhook.connection;
}

const S3_KEY_ALIASES: readonly (readonly [string, string])[] = [
  ['access_key_id', 'aws_access_key_id'],
  ['secret_access_key', 'aws_secret_access_key'],
];

function normalizeConnection(value: Record<string, unknown>): unknown {
  if (value.type !== 's3') return value;
  for (const [alias, name] of S3_KEY_ALIASES) renameAlias(value, alias, name);
  return value;
}

const NO_DEFAULTS: ReadonlyMap<string, string> = new Map();

export function normalizeCwmForms(kind: EntryKind, value: unknown, defaults: ReadonlyMap<string, string> = NO_DEFAULTS): unknown {
  if (!isObject(value)) return value;
  if (kind === 'connection') return normalizeConnection(value);
  if (!Object.hasOwn(value, 'chain')) {
    normalizeOutput(value, defaults);
    return value;
  }
  const chain = value.chain;
  if (!Array.isArray(chain)) return value;
  if (chain.some((item) => typeof item === 'string')) value.chain = chain.map((item: unknown) => (typeof item === 'string' ? { module: item } : item));
  for (const item of value.chain as unknown[]) {
    if (!isObject(item)) continue;
    inherit(value, item);
    normalizeOutput(item, defaults);
  }
  return value;
}
