/**
 * X-Request-Id: the caller's, when it is safe to echo, else a generated one.
 * Set on every response (webhook and admin routes) and put on the log lines
 * about that request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSafeId, newDeliveryId } from '../delivery/delivery-id.js';

export const REQUEST_ID_HEADER = 'x-request-id';

export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = isSafeId(given) ? given : newDeliveryId();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** The request path without its query string: query_auth keys travel there and must not reach the logs. */
export function pathOnly(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
