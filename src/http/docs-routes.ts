/**
 * CWM's `GET /openapi.json` and `GET /docs`, built per request from the live
 * configuration (openapi.ts, docs-page.ts). DISABLE_OPENAPI_DOCS=true (CWM's
 * name) turns both off (404).
 */
import express, { type Router } from 'express';
import type { CompiledWebhook } from '../config/compile.js';
import { DOCS_CSP, renderDocs } from './docs-page.js';
import { buildOpenApi } from './openapi.js';

export function docsRoutes(webhooks: () => Iterable<CompiledWebhook>, defaultNamespace: string): Router {
  const router = express.Router();
  router.get('/openapi.json', (_req, res) => {
    res.status(200).json(buildOpenApi(webhooks(), defaultNamespace));
  });
  router.get('/docs', (_req, res) => {
    res.status(200).set({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DOCS_CSP, 'x-content-type-options': 'nosniff' }).send(renderDocs(buildOpenApi(webhooks(), defaultNamespace)));
  });
  return router;
}
