/**
 * `clickhouse`: one row per delivery in CWM's table layout, acknowledged
 * when the INSERT returned (CWM swallowed insert errors and answered 200).
 * The table is created if missing, once per connection client, with CWM's
 * DDL. `id` is the delivery id (CWM: a random uuid4), so duplicates from
 * sender retries can be found.
 */
import { Type } from '@sinclair/typebox';
import { clickhouseConnection } from '../connections/clickhouse.js';
import type { Delivery } from '../delivery/types.js';
import { defineOutput, nothingToClose } from './types.js';

/** ClickHouse DateTime text: "YYYY-MM-DD hh:mm:ss" (UTC). */
function dateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS \`${table}\` (id String, webhook_id String, timestamp DateTime, payload String, headers String, created_at DateTime DEFAULT now()) ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp) ORDER BY (webhook_id, timestamp)`;
}

export const clickhouseOutput = defineOutput({
  name: 'clickhouse',
  connectionTypes: [clickhouseConnection],
  schema: Type.Object(
    {
      // Backquoted in the DDL; the pattern is what keeps it a plain identifier.
      table: Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9_]+$', default: 'webhook_logs' }),
      include_headers: Type.Boolean({ default: true }),
      include_timestamp: Type.Boolean({ default: true, description: "accepted for CWM's configs; CWM ignored it too (timestamp is always written)" }),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const name = spec.connection;
    /** The generation whose client created the table: a new client (maybe a new server) creates it again. */
    let tableFor = 0;
    return {
      async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
        const conn = await ctx.connections.ready(name, clickhouseConnection);
        await conn.use(async () => {
          if (tableFor !== conn.generation) {
            await conn.client.command(createTableSql(cfg.table), signal);
            tableFor = conn.generation;
          }
          const row = {
            id: delivery.id,
            webhook_id: delivery.webhookId,
            timestamp: dateTime(delivery.receivedAt),
            // Blob webhooks: the bytes as base64 (a JSONEachRow row must be UTF-8 text).
            payload: Buffer.isBuffer(delivery.payload) ? delivery.payload.toString('base64') : JSON.stringify(delivery.payload),
            headers: cfg.include_headers ? JSON.stringify(delivery.headers) : '{}',
          };
          await conn.client.insert(`\`${cfg.table}\``, [row], signal);
        });
      },
      close: nothingToClose,
    };
  },
});
