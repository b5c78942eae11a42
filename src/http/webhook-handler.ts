/**
 * The hot path: `POST /webhook/:namespace/:id` and `POST /webhook/:id` on bare
 * node:http. It reads only compiled webhooks and answers per the DESIGN §3
 * status table; express never sees these requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ClientIpResolver } from '../auth/client-ip.js';
import type { CheckRun, DedupeClaim, Rejection, RequestView } from '../auth/types.js';
import type { CompiledWebhook } from '../config/compile.js';
import { isValidName } from '../config/keys.js';
import { deliver, DeliveryError } from '../delivery/deliver.js';
import { isSafeId, requestDeliveryId } from '../delivery/delivery-id.js';
import { DeliveryTimeouts, type Deadline } from '../delivery/timeouts.js';
import { spoolAndAnswer, type Spool } from '../delivery/spool-answer.js';
import type { Delivery } from '../delivery/types.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';
import { sensitiveHeaders } from '../observability/sensitive.js';
import type { Metrics } from '../observability/metrics.js';
import type { RequestStats } from '../observability/request-stats.js';
import { BodyTooLargeError, declaredLengthExceeds, readBody } from './body.js';
import { PayloadError } from './json-payload.js';
import { bodyFormat, decodePayload, type BodyFormat } from './payload.js';
import { ThrottledLog } from '../observability/log-throttle.js';
import { assignRequestId, pathOnly, REQUEST_ID_HEADER } from './request-id.js';
import { sendError, sendJson } from './respond.js';

export interface WebhookLookup {
  lookup(namespace: string, id: string): CompiledWebhook | undefined;
  readonly ready: boolean;
}

export interface WebhookHandlerOptions {
  readonly config: WebhookLookup;
  readonly defaultNamespace: string;
  readonly outputTimeoutMs: number;
  readonly maxJsonDepth: number;
  /** Peer address, or X-Forwarded-For when the peer is a trusted proxy. */
  readonly clientIp: ClientIpResolver;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** One info line per request (request id, route, status, duration); off by default to keep the hot path lean. */
  readonly accessLog?: boolean;
  /** Repeated delivery failures (same webhook, module and reason) are logged once, then as one summary per interval. Default 10 s. */
  readonly logSummaryIntervalMs?: number;
  /** The durable spool: webhooks with `retry.enabled` and a spool connection answer 202 once spooled. */
  readonly spool?: Spool;
  /** CWM's /stats counts (accepted requests per webhook); absent unless STATS_AUTH_TOKEN is set, so the hot path pays nothing. */
  readonly stats?: RequestStats;
  /** DEFAULT_WEBHOOK_FALLBACK: an unknown id is handled by the namespace's webhook `default` (CWM's catch-all). */
  readonly defaultWebhookFallback?: boolean;
}

/** The id CWM's catch-all webhook has. */
export const DEFAULT_WEBHOOK_ID = 'default';

export type WebhookHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** Logs the pending failure summaries and stops their timer. */
  close(): void;
};

const EMPTY = Buffer.alloc(0);
const RETRY_AFTER = { 'retry-after': String(RETRY_AFTER_SECONDS) };
/** Never forwarded to outputs: credentials and signatures stay at the edge (the one list, src/observability/sensitive.ts). */
const STRIPPED_HEADERS = sensitiveHeaders();
/** A check that calls out (introspection, JWKS, a verify endpoint) did not answer within OUTPUT_TIMEOUT_MS. */
const CHECK_TIMED_OUT: Rejection = { status: 503, error: 'a credential check timed out; retry later', headers: RETRY_AFTER };

/** Metric labels of a request: the webhook once one matched, else one fixed bucket (bounded cardinality). */
interface Label {
  readonly namespace: string;
  readonly id: string;
}
const UNMATCHED: Label = { namespace: '_unmatched', id: '_unmatched' };

function reject(res: ServerResponse, status: number, error: string, headers?: Readonly<Record<string, string>>): Label {
  sendError(res, status, error, headers);
  return UNMATCHED;
}

type Route = { namespace: string; id: string } | 'not-found';

/** Splits `/webhook/<a>[/<b>][?query]` without allocating a URL object. */
export function matchRoute(path: string, defaultNamespace: string): Route {
  const rest = path.slice('/webhook/'.length);
  const slash = rest.indexOf('/');
  if (slash === -1) return { namespace: defaultNamespace, id: rest };
  if (rest.indexOf('/', slash + 1) !== -1) return 'not-found';
  return { namespace: rest.slice(0, slash), id: rest.slice(slash + 1) };
}

function expectsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return expect !== undefined && expect.toLowerCase() === '100-continue';
}

function forwardedHeaders(req: IncomingMessage, credentials: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.headers;
  for (const name of Object.keys(raw)) {
    if (STRIPPED_HEADERS.has(name) || credentials.has(name)) continue;
    const v = raw[name];
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(', ') : v;
    // Plain assignment is far cheaper, but would set the prototype for a header named __proto__.
    if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else out[name] = value;
  }
  return out;
}

/** What checks see of a request. The query and the client address are worked out only when a check asks. */
class IncomingView implements RequestView {
  rawBody: Buffer = EMPTY;
  payload: unknown = undefined;
  private parsedQuery: URLSearchParams | undefined;
  private resolvedIp: string | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly search: string,
    private readonly resolveIp: ClientIpResolver,
    readonly namespace: string,
    readonly webhookId: string,
  ) {}

  get headers(): IncomingMessage['headers'] {
    return this.req.headers;
  }

  get method(): string {
    return this.req.method ?? 'POST';
  }

  get path(): string {
    return pathOnly(this.req.url);
  }

  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.search));
  }

  get clientIp(): string {
    return (this.resolvedIp ??= this.resolveIp(this.req));
  }
}

/** A pending check's verdict, or CHECK_TIMED_OUT once the request's check deadline passed. */
function untilDeadline(result: Promise<Rejection | null>, signal: AbortSignal): Promise<Rejection | null> {
  if (signal.aborted) return Promise.resolve(CHECK_TIMED_OUT);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(CHECK_TIMED_OUT);
    signal.addEventListener('abort', onAbort, { once: true });
    result.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

async function runChecks(checks: readonly CheckRun[], view: RequestView, deadline: Deadline): Promise<Rejection | null> {
  for (const run of checks) {
    const result = run(view, deadline.signal);
    const rejection = result instanceof Promise ? await untilDeadline(result, deadline.signal) : result;
    if (rejection) return rejection;
  }
  return null;
}

export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const { config, metrics, logger } = options;
  const timeouts = new DeliveryTimeouts(options.outputTimeoutMs);
  const failures = new ThrottledLog(logger, { event: 'delivery_failed', intervalMs: options.logSummaryIntervalMs ?? 10_000, suppressed: metrics.suppressedLogLines });

  const unmatched = metrics.seriesFor(UNMATCHED.namespace, UNMATCHED.id);
  const finish = (req: IncomingMessage, res: ServerResponse, label: Label, requestId: string, started: number): void => {
    const seconds = (performance.now() - started) / 1000;
    metrics.inFlight.dec();
    metrics.recordRequest(label === UNMATCHED ? unmatched : metrics.seriesFor(label.namespace, label.id), res.statusCode, seconds);
    // As CWM: counted once the request was accepted (200, 202), not when it was refused.
    if (options.stats && label !== UNMATCHED && res.statusCode >= 200 && res.statusCode < 300) options.stats.increment(label.namespace, label.id);
    if (options.accessLog) logger.info({ request_id: requestId, method: req.method, path: pathOnly(req.url), status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, 'request');
  };

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<Label> {
    const url = req.url as string;
    const q = url.indexOf('?');
    const route = matchRoute(q === -1 ? url : url.slice(0, q), options.defaultNamespace);
    if (route === 'not-found') return reject(res, 404, 'not found');
    const { namespace, id } = route;
    if (!isValidName(namespace) || !isValidName(id)) return reject(res, 400, 'namespace and webhook id must match ^[A-Za-z0-9_-]{1,64}$');
    if (req.method !== 'POST') return reject(res, 405, 'method not allowed; use POST', { allow: 'POST' });
    // With the fallback, the delivery is the `default` webhook's (its checks, outputs, metrics label, webhook_id).
    const hook = config.lookup(namespace, id) ?? (options.defaultWebhookFallback === true ? config.lookup(namespace, DEFAULT_WEBHOOK_ID) : undefined);
    if (!hook) {
      if (!config.ready) return reject(res, 503, 'configuration not loaded yet', RETRY_AFTER);
      return reject(res, 404, 'webhook not found');
    }
    await handleWebhook(req, res, hook, url, q, requestId);
    return hook;
  }

  async function handleWebhook(req: IncomingMessage, res: ServerResponse, hook: CompiledWebhook, url: string, q: number, requestId: string): Promise<void> {
    const { namespace, id } = hook;
    if (declaredLengthExceeds(req, hook.maxBodyBytes)) return sendError(res, 413, `body exceeds ${hook.maxBodyBytes} bytes`, { connection: 'close' });
    const contentType = req.headers['content-type'] ?? '';
    const format: BodyFormat | undefined = hook.dataType === 'json' ? bodyFormat(contentType) : undefined;
    if (hook.dataType === 'json' && format === undefined) return sendError(res, 415, 'content type must be application/json, application/x-www-form-urlencoded or none');

    // Most webhooks have no checks: then no view (and no check deadline) is built at all.
    const hasChecks = hook.headerChecks.length > 0 || hook.bodyChecks.length > 0 || hook.payloadChecks.length > 0;
    const view = hasChecks ? new IncomingView(req, q === -1 ? '' : url.slice(q + 1), hook.clientIp ?? options.clientIp, namespace, id) : undefined;
    // Its own callback: a window tells its members apart by their callbacks.
    const onCheckTimeout = (): void => undefined;
    const deadline = view ? timeouts.track(onCheckTimeout) : undefined;
    let payload: unknown;
    let body: Buffer;
    try {
      if (view && deadline && hook.headerChecks.length > 0) {
        const rejected = await runChecks(hook.headerChecks, view, deadline);
        if (rejected) return sendError(res, rejected.status, rejected.error, rejected.headers);
      }

      // Only now, with every header check passed, is the sender invited to send its body.
      if (expectsContinue(req)) res.writeContinue();
      try {
        body = await readBody(req, hook.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) return sendError(res, 413, err.message, { connection: 'close' });
        return; // the client went away; nothing to answer
      }
      if (view && deadline && hook.bodyChecks.length > 0) {
        view.rawBody = body;
        const rejected = await runChecks(hook.bodyChecks, view, deadline);
        if (rejected) return sendError(res, rejected.status, rejected.error, rejected.headers);
      }

      payload = body;
      if (format !== undefined) {
        try {
          payload = decodePayload(body, format, options.maxJsonDepth);
        } catch (err) {
          return sendError(res, 400, err instanceof PayloadError ? err.message : 'body is not valid JSON');
        }
        if (view && deadline && hook.payloadChecks.length > 0) {
          view.rawBody = body;
          view.payload = payload;
          const rejected = await runChecks(hook.payloadChecks, view, deadline);
          if (rejected) return sendError(res, rejected.status, rejected.error, rejected.headers);
        }
        if (hook.validatePayload) {
          const errors = hook.validatePayload(payload);
          if (errors) return sendError(res, 422, 'payload does not match the webhook json_schema', undefined, errors);
        }
      }
    } finally {
      deadline?.release(onCheckTimeout);
    }

    // The sender's idempotency key, else the caller's X-Request-Id bound to this very body, else the generated request id.
    const senderId = hook.deliveryId(req.headers, payload) ?? (isSafeId(req.headers[REQUEST_ID_HEADER]) ? requestDeliveryId(requestId, body) : undefined);
    let headers = forwardedHeaders(req, hook.credentialHeaders);
    let rawBody = body;
    let bodyType = contentType;
    if (hook.cleanCredentials) {
      const cleaned = hook.cleanCredentials(payload, headers);
      headers = cleaned.headers;
      // Outputs that send the body bytes (kafka, http_webhook) must not carry what was cleaned out of the payload.
      if (cleaned.payloadChanged) {
        payload = cleaned.payload;
        rawBody = Buffer.from(JSON.stringify(payload));
        // The bytes are JSON now, whatever was received (a form body, none declared).
        bodyType = 'application/json';
      }
    }
    const delivery: Delivery = {
      id: senderId ?? requestId,
      requestId,
      namespace,
      webhookId: id,
      receivedAt: Date.now(),
      headers,
      payload,
      rawBody,
      contentType: bodyType,
    };
    // Only a sender's own id can repeat; a generated one never needs deduplicating.
    let claim: DedupeClaim | undefined;
    if (hook.dedupe && senderId !== undefined) {
      claim = await hook.dedupe.claim(senderId);
      if (claim.kind === 'duplicate') return sendJson(res, 200, { status: 'accepted', delivery_id: delivery.id, duplicate: true });
      if (claim.kind === 'busy') return sendError(res, 503, 'a delivery with this id is in progress; retry later', RETRY_AFTER);
      if (claim.kind === 'unavailable') return sendError(res, 503, 'deduplication store unavailable; retry later', RETRY_AFTER);
    }
    const spoolConnection = options.spool?.connectionFor(hook);
    if (options.spool && spoolConnection !== undefined) return spoolAndAnswer(options.spool, spoolConnection, hook, delivery, claim, res, logger);
    try {
      await deliver(hook.outputs, hook.execution, delivery, timeouts);
    } catch (err) {
      if (claim?.kind === 'new') await claim.release();
      const module = err instanceof DeliveryError ? err.module : 'unknown';
      metrics.outputErrors.inc({ module });
      const reason = err instanceof DeliveryError ? err.reason : 'failed';
      failures.warn(`${namespace}\u0000${id}\u0000${module}\u0000${reason}`, { namespace, webhook_id: id, delivery_id: delivery.id, request_id: requestId, module, reason: (err as Error).message, cause: (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : undefined }, 'delivery failed; answered 503');
      return sendError(res, 503, 'output unavailable; retry later', RETRY_AFTER);
    }
    if (claim?.kind === 'new') await claim.commit();
    sendJson(res, 200, { status: 'accepted', delivery_id: delivery.id });
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    metrics.inFlight.inc();
    const requestId = assignRequestId(req, res);
    handle(req, res, requestId).then(
      (label) => finish(req, res, label, requestId, started),
      (err: unknown) => {
        logger.error({ err, request_id: requestId }, 'webhook handler failed');
        sendError(res, 500, 'internal error');
        finish(req, res, UNMATCHED, requestId, started);
      },
    );
  };
  return Object.assign(handler, { close: () => failures.close() });
}
