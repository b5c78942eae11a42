/**
 * How the receiver judges one config value, without serving it: the same
 * prepare (substitute, schema, defaults) and compile steps the ConfigManager
 * runs, with nothing connected. `cwm validate`, `cwm put` and
 * `cwm import --dry-run` call this, so they refuse exactly what the receiver
 * would drop.
 */
import { pino } from 'pino';
import { LiveConnections } from '../connections/live.js';
import { ConfigError } from '../errors.js';
import { STRICT_OUTPUT_SETTINGS, type OutputSettings } from '../outputs/types.js';
import { loadSettings, SettingsError } from '../settings.js';
import { compileWebhook } from './compile.js';
import { prepareConfig, type EntryEnvironment } from './entry.js';
import type { WebhookConfig } from './schema/webhook.js';
import type { EntryKind } from './validation.js';

const silent = pino({ level: 'silent' });

/**
 * The outbound guard and save_to_disk root as the receiver would see them in
 * this environment; an environment the receiver would refuse to start with
 * judges with every guard closed.
 */
function outputSettings(env: EntryEnvironment['env']): OutputSettings {
  try {
    return loadSettings(env);
  } catch (err) {
    if (err instanceof SettingsError) return STRICT_OUTPUT_SETTINGS;
    throw err;
  }
}

/** Error lines (JSON pointers first, never the values) for `value`; empty when the receiver would serve it. */
export function judgeConfig(kind: EntryKind, value: unknown, environment: EntryEnvironment): string[] {
  try {
    // prepareConfig writes defaults into what it returns: a copy, so the caller's value stays as written.
    const prepared = prepareConfig(kind, structuredClone(value), environment);
    if (kind === 'webhook') {
      const settings = outputSettings(environment.env);
      const compiled = compileWebhook('validate', 'validate', prepared as WebhookConfig, { logger: silent, connections: new LiveConnections(silent), maxBodyBytes: 1 << 20, settings });
      void compiled.close();
    }
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.details.length > 0 ? [...err.details] : [err.message];
  }
}
