/** Builds the RequestView an auth check sees, for unit tests of checks without a server. */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestCheck, RequestView } from '../../src/auth/types.js';

export function view(parts: { headers?: IncomingHttpHeaders; query?: string; clientIp?: string; body?: string | Buffer } = {}): RequestView {
  return {
    headers: parts.headers ?? {},
    query: new URLSearchParams(parts.query ?? ''),
    clientIp: parts.clientIp ?? '127.0.0.1',
    namespace: 'ns',
    webhookId: 'hook',
    rawBody: typeof parts.body === 'string' ? Buffer.from(parts.body) : (parts.body ?? Buffer.alloc(0)),
  };
}

/** The status a check answers: 0 when it lets the request through. */
export async function statusOf(check: RequestCheck, req: RequestView): Promise<number> {
  const r = await check.run(req);
  return r === null ? 0 : r.status;
}
