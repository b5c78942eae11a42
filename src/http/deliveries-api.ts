/**
 * The durable spool's admin API, the same operations as `cwm deliveries`,
 * behind `Authorization: Bearer <DELIVERIES_ADMIN_TOKEN>` (off when unset):
 *   GET  /admin/deliveries[?dead=true&filter=ns[/id]&limit=N&connection=name]
 *   GET  /admin/deliveries/<spool-id>[?payload=true]
 *   POST /admin/deliveries/<spool-id>/replay
 *   POST /admin/deliveries/replay-dead[?filter=ns[/id]]
 *   POST /admin/deliveries/purge-dead?older_than=7d
 * `connection` picks a spool connection this instance works (default SPOOL_CONNECTION).
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Queue } from 'bullmq';
import { digestOf, matchesDigest } from '../auth/constant-time.js';
import type { SpooledDelivery } from '../delivery/spool.js';
import { filterOf, listDeliveries, parseDuration, purgeDead, replayAllDead, replayDelivery, showDelivery, SpoolAdminError } from '../delivery/spool-admin.js';

const STATUS = { 'bad-request': 400, 'not-found': 404, conflict: 409 } as const;

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function createDeliveriesApi(token: string, queueFor: (connection: string | undefined) => Queue<SpooledDelivery> | undefined): Router {
  const expected = digestOf(token);
  const router = express.Router();
  router.use((req, res, next) => {
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!matchesDigest(expected, given)) {
      res.status(401).set('www-authenticate', 'Bearer').json({ status: 'error', error: 'admin token required' });
      return;
    }
    next();
  });
  const withQueue = (work: (q: Queue<SpooledDelivery>, req: Request) => Promise<unknown>) => async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const queue = queueFor(text(req.query.connection));
    if (!queue) {
      res.status(503).set('retry-after', '1').json({ status: 'error', error: 'no spool worker on that connection in this instance (yet)' });
      return;
    }
    try {
      res.status(200).json(await work(queue, req));
    } catch (err) {
      if (err instanceof SpoolAdminError) res.status(STATUS[err.kind]).json({ status: 'error', error: err.message });
      else next(err);
    }
  };
  router.get('/', withQueue(async (q, req) => {
    const limit = Math.min(Number(text(req.query.limit) ?? 1000) || 1000, 10_000);
    return { deliveries: await listDeliveries(q, text(req.query.dead) === 'true', filterOf(text(req.query.filter)), limit) };
  }));
  router.post('/replay-dead', withQueue(async (q, req) => ({ replayed: await replayAllDead(q, filterOf(text(req.query.filter))) })));
  router.post('/purge-dead', withQueue(async (q, req) => {
    const older = text(req.query.older_than);
    if (!older) throw new SpoolAdminError('older_than is required (e.g. 7d)', 'bad-request');
    return { removed: await purgeDead(q, parseDuration(older)) };
  }));
  router.get('/:id', withQueue(async (q, req) => showDelivery(q, String(req.params.id), text(req.query.payload) === 'true')));
  router.post('/:id/replay', withQueue(async (q, req) => {
    await replayDelivery(q, String(req.params.id));
    return { replayed: String(req.params.id) };
  }));
  return router;
}
