/** The request path's one branch into the spool: 202 once the job is in Redis, 503 + Retry-After when it cannot be. */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DedupeClaim } from '../auth/types.js';
import type { CompiledWebhook } from '../config/compile.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';
import { sendError, sendJson } from '../http/respond.js';
import type { Spool } from './spool.js';
import type { Delivery } from './types.js';

export type { Spool } from './spool.js';

export async function spoolAndAnswer(spool: Spool, connection: string, hook: CompiledWebhook, delivery: Delivery, claim: DedupeClaim | undefined, res: ServerResponse, logger: Logger): Promise<void> {
  let spoolId: string;
  try {
    spoolId = await spool.accept(hook, connection, delivery);
  } catch (err) {
    if (claim?.kind === 'new') await claim.release();
    logger.warn({ namespace: hook.namespace, webhook_id: hook.id, delivery_id: delivery.id, request_id: delivery.requestId, reason: (err as Error).message }, 'spool unavailable; answered 503');
    return sendError(res, 503, 'delivery spool unavailable; retry later', { 'retry-after': String(RETRY_AFTER_SECONDS) });
  }
  if (claim?.kind === 'new') await claim.commit();
  sendJson(res, 202, { status: 'queued', delivery_id: delivery.id, spool_id: spoolId });
}
