/** Compiles a webhook config the way the receiver does: schema first (defaults filled in), then compile. */
import assert from 'node:assert/strict';
import { compileWebhook, type CompileContext, type CompiledWebhook } from '../../src/config/compile.js';
import type { WebhookConfig } from '../../src/config/schema/webhook.js';
import { validateConfig } from '../../src/config/validation.js';

export function compileValid(namespace: string, id: string, config: Record<string, unknown>, ctx: CompileContext): CompiledWebhook {
  const value = structuredClone(config);
  assert.deepEqual(validateConfig('webhook', value), [], JSON.stringify(config));
  return compileWebhook(namespace, id, value as WebhookConfig, ctx);
}
