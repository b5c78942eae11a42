/** A webhook config judged by the receiver's own validate + compile, as one string for assertions. */
import { pino } from 'pino';
import { compileWebhook } from '../../src/config/compile.js';
import type { WebhookConfig } from '../../src/config/schema/webhook.js';
import { validateConfig } from '../../src/config/validation.js';
import { LiveConnections } from '../../src/connections/live.js';
import { ConfigError } from '../../src/errors.js';

const silent = pino({ level: 'silent' });

/** The schema's errors, else compile's ConfigError message, else '' (valid). The config is not modified. */
export function judgeWebhook(config: Record<string, unknown>): string {
  const value = structuredClone(config);
  const errors = validateConfig('webhook', value);
  if (errors.length > 0) return `schema: ${JSON.stringify(errors)}`;
  try {
    compileWebhook('ns', 'hook', value as WebhookConfig, { logger: silent, connections: new LiveConnections(silent), maxBodyBytes: 1 << 20 });
    return '';
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}
