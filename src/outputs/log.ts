/** `log` output: one pino line per delivery, written to the log destination (in the kernel) before the sender gets 2xx. */
import { nothingToClose, type BoundOutput, type OutputContext, type OutputModule, type OutputSpec } from './types.js';
import type { Delivery } from '../delivery/types.js';
import { censorNested } from '../observability/logger.js';
import { whenWritten } from '../observability/log-destination.js';
import { jsonSafePayload } from './envelope.js';
import { optionalBoolean } from './module-config.js';

const SENSITIVE_HEADER = /authorization|cookie|signature|secret|token|api[-_]?key|hmac/i;

function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SENSITIVE_HEADER.test(k) ? '[redacted]' : v;
  return out;
}

export const logOutput: OutputModule = {
  name: 'log',
  bind(spec: OutputSpec, ctx: OutputContext): BoundOutput {
    const cfg = spec.moduleConfig;
    const pretty = optionalBoolean(cfg, 'pretty_print') ?? false;
    const redact = optionalBoolean(cfg, 'redact_sensitive') ?? true;
    const withHeaders = optionalBoolean(cfg, 'include_headers') ?? true;
    // The shared line logger has no path redaction, so each object field goes through censorNested.
    // namespace, webhook_id and output come first, where a per-webhook child would have put them.
    const log = ctx.deliveryLogger;
    const written = whenWritten(log);
    return {
      send(delivery: Delivery): Promise<void> {
        const payload = jsonSafePayload(delivery);
        const line: Record<string, unknown> = {
          namespace: delivery.namespace,
          webhook_id: delivery.webhookId,
          output: 'log',
          delivery_id: delivery.id,
          request_id: delivery.requestId,
          payload: pretty ? JSON.stringify(payload, null, 2) : censorNested(payload),
        };
        if (withHeaders) line.webhook_headers = censorNested(redact ? redactHeaders(delivery.headers) : delivery.headers);
        log.info(line, 'webhook received');
        return written();
      },
      close: nothingToClose,
    };
  },
};
