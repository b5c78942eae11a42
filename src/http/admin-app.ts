/** Probes and metrics on express: off the hot path, so express's conveniences cost nothing that matters. */
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { SourceState } from '../config/provider.js';
import { assignRequestId, pathOnly } from './request-id.js';

export interface HealthSource {
  readonly ready: boolean;
  /** The config source's name ("file", "etcd"): /health names the component only when it is etcd. */
  readonly sourceName: string;
  sourceState(): SourceState;
}

export interface AdminRoutes {
  /** The durable spool's admin API (src/http/deliveries-api.ts); absent unless DELIVERIES_ADMIN_TOKEN is set. */
  readonly deliveries?: Router;
  /** `GET /` and `GET /stats` (src/http/root-routes.ts). */
  readonly root?: Router;
  /** `GET /openapi.json` and `GET /docs` (src/http/docs-routes.ts); absent with DISABLE_OPENAPI_DOCS=true. */
  readonly docs?: Router;
}

export function createAdminApp(health: HealthSource, metrics: Metrics, logger: Logger, routes: AdminRoutes = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req, res, next) => {
    const requestId = assignRequestId(req, res);
    res.locals.requestId = requestId;
    // Probes arrive every few seconds: debug, not info.
    res.on('finish', () => logger.debug({ request_id: requestId, method: req.method, path: pathOnly(req.url), status: res.statusCode }, 'admin request'));
    next();
  });
  app.get('/health', (_req, res) => {
    const components: Record<string, string> = { config_manager: 'healthy' };
    // The file backend has no connection to report: naming an "etcd" there would be false.
    if (health.sourceName === 'etcd') components.etcd = health.sourceState();
    res.status(200).json({ status: 'healthy', components });
  });
  app.get('/ready', (_req, res) => {
    if (health.ready) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'not_ready', reason: 'initial configuration not loaded' });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  if (routes.deliveries) app.use('/admin/deliveries', routes.deliveries);
  if (routes.root) app.use(routes.root);
  if (routes.docs) app.use(routes.docs);
  app.use((_req, res) => {
    res.status(404).json({ status: 'error', error: 'not found' });
  });
  // express's default error page would print a stack trace.
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err, request_id: res.locals.requestId as string }, 'admin route failed');
    res.status(500).json({ status: 'error', error: 'internal error' });
  });
  return app;
}
