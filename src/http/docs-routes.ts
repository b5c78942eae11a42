/**
 * CWM's `GET /openapi.json` and `GET /docs` from the live configuration
 * (openapi.ts, docs-page.ts). DISABLE_OPENAPI_DOCS=true (CWM's name) turns
 * both off (404).
 *
 * Built once per config generation, not per request: for 5000 webhooks a
 * build took 200–1000 ms on a loaded 2-core machine (6.7 MB before responses
 * were shared via components, 3.5 MB after), time the event loop would not
 * serve webhooks, so repeated GETs could stall the receiver. Cached, a GET
 * took 60–90 ms end to end (client parse included) after one 1.2 s build
 * (node dist/scripts/measure-openapi.js 5000).
 */
import express, { type Router } from 'express';
import type { CompiledWebhook } from '../config/compile.js';
import { DOCS_CSP, renderDocs } from './docs-page.js';
import { buildOpenApi } from './openapi.js';

export interface DocsSource {
  all(): Iterable<CompiledWebhook>;
  /** Changes whenever the set of active webhooks (or one of them) changes. */
  readonly generation: number;
}

interface Built {
  readonly generation: number;
  readonly json: string;
  html?: string;
}

export function docsRoutes(source: DocsSource, defaultNamespace: string): Router {
  let built: Built | undefined;
  const current = (): Built => {
    if (built?.generation !== source.generation) {
      const generation = source.generation;
      built = { generation, json: JSON.stringify(buildOpenApi(source.all(), defaultNamespace)) };
    }
    return built;
  };
  const router = express.Router();
  router.get('/openapi.json', (_req, res) => {
    res.status(200).type('application/json').send(current().json);
  });
  router.get('/docs', (_req, res) => {
    const b = current();
    b.html ??= renderDocs(JSON.parse(b.json) as Record<string, unknown>);
    res.status(200).set({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DOCS_CSP, 'x-content-type-options': 'nosniff' }).send(b.html);
  });
  return router;
}
