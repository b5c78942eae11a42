/**
 * CWM's two informational routes:
 *   GET /       200 {"message":"200 OK"}, as CWM answers it (a cheap liveness probe).
 *   GET /stats  per-webhook accepted-request counts (request-stats.ts) behind
 *               STATS_AUTH_TOKEN — CWM's name — as `Authorization: Bearer <token>`
 *               or the bare token (CWM took both). Unset: the route is off (404);
 *               CWM served it to anyone then, which lists every webhook id.
 */
import express, { type Router } from 'express';
import { digestOf, matchesDigest } from '../auth/constant-time.js';
import type { RequestStats } from '../observability/request-stats.js';

export interface StatsRoute {
  readonly token: string;
  readonly stats: RequestStats;
}

export function rootRoutes(stats: StatsRoute | undefined): Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.status(200).json({ message: '200 OK' });
  });
  if (stats) {
    const expected = digestOf(stats.token);
    router.get('/stats', (req, res) => {
      const header = req.headers.authorization;
      const given = header === undefined ? undefined : header.startsWith('Bearer ') ? header.slice(7).trim() : header.trim();
      if (!matchesDigest(expected, given)) {
        res.status(401).set('www-authenticate', 'Bearer').json({ status: 'error', error: 'stats token required' });
        return;
      }
      res.status(200).json(stats.stats.snapshot());
    });
  }
  return router;
}
