/** JSON answers written straight to node's response: no res.json, no ETag, no content negotiation. */
import type { ServerResponse } from 'node:http';
import { bodyUnread } from './body.js';

export function sendJson(res: ServerResponse, status: number, body: object, headers?: Readonly<Record<string, string>>): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  // Answered before the body was read (401, 404, 413, ...): the server drains a bounded rest and closes.
  if (bodyUnread(res.req)) res.setHeader('connection', 'close');
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, error: string, headers?: Readonly<Record<string, string>>, details?: readonly string[]): void {
  sendJson(res, status, details ? { status: 'error', error, details } : { status: 'error', error }, headers);
}
