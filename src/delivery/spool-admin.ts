/**
 * What `cwm deliveries` and the admin HTTP API do to the spool, on a BullMQ
 * Queue of it: one implementation, two front ends. Payloads only on request.
 */
import type { Job, JobType, Queue } from 'bullmq';
import { isValidName } from '../config/keys.js';
import type { SpooledDelivery } from './spool.js';

const PENDING: JobType[] = ['active', 'waiting', 'delayed', 'prioritized'];
const PAGE = 1000;

export class SpoolAdminError extends Error {
  constructor(message: string, readonly kind: 'bad-request' | 'not-found' | 'conflict') {
    super(message);
  }
}

export type DeliveryFilter = (d: SpooledDelivery) => boolean;

/** `namespace` or `namespace/id` → a job filter. */
export function filterOf(arg: string | undefined): DeliveryFilter {
  if (arg === undefined || arg === '') return () => true;
  const [ns, id, extra] = arg.split('/');
  if (extra !== undefined || ns === undefined || !isValidName(ns) || (id !== undefined && !isValidName(id))) throw new SpoolAdminError(`expected namespace or namespace/id, got ${JSON.stringify(arg)}`, 'bad-request');
  return (d) => d.namespace === ns && (id === undefined || d.webhookId === id);
}

const UNITS = new Map([['s', 1000], ['m', 60_000], ['h', 3_600_000], ['d', 86_400_000]]);

/** "90s", "15m", "12h", "7d" → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new SpoolAdminError(`a duration is a number and s, m, h or d (e.g. 7d), got ${JSON.stringify(text)}`, 'bad-request');
  const unit = UNITS.get(m[2] ?? '') ?? 0;
  return Number(m[1]) * unit;
}

async function* jobsOf(queue: Queue<SpooledDelivery>, types: JobType[]): AsyncGenerator<Job<SpooledDelivery>> {
  for (let start = 0; ; start += PAGE) {
    const jobs = await queue.getJobs(types, start, start + PAGE - 1, true);
    for (const j of jobs) if (j) yield j;
    if (jobs.length < PAGE) return;
  }
}

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

export interface DeliverySummary {
  readonly spool_id: string;
  readonly delivery_id: string;
  readonly namespace: string;
  readonly webhook_id: string;
  readonly state: string;
  readonly attempts: number;
  readonly max_attempts: number | undefined;
  readonly last_error: string | null;
  readonly received_at: string | null;
  readonly spooled_at: string | null;
  readonly last_attempt_at: string | null;
  readonly finished_at: string | null;
}

async function summary(job: Job<SpooledDelivery>, state?: string): Promise<DeliverySummary> {
  const d = job.data;
  const s = state ?? (await job.getState());
  return {
    spool_id: job.id ?? '', delivery_id: d.deliveryId, namespace: d.namespace, webhook_id: d.webhookId, state: s === 'failed' ? 'dead' : s,
    attempts: job.attemptsMade, max_attempts: job.opts.attempts, last_error: job.failedReason || null,
    received_at: iso(d.receivedAt), spooled_at: iso(job.timestamp), last_attempt_at: iso(job.processedOn), finished_at: iso(job.finishedOn),
  };
}

/** Not yet delivered (waiting, delayed, active), or with `dead` the dead letters; oldest first. */
export async function listDeliveries(queue: Queue<SpooledDelivery>, dead: boolean, filter: DeliveryFilter, limit = Infinity): Promise<DeliverySummary[]> {
  const found: DeliverySummary[] = [];
  for await (const j of jobsOf(queue, dead ? ['failed'] : PENDING)) {
    if (!filter(j.data)) continue;
    found.push(await summary(j, dead ? 'failed' : undefined));
    if (found.length >= limit) break;
  }
  return found;
}

export async function showDelivery(queue: Queue<SpooledDelivery>, spoolId: string, withPayload: boolean): Promise<Record<string, unknown>> {
  const job = await queue.getJob(spoolId);
  if (!job) throw new SpoolAdminError(`no spooled delivery ${JSON.stringify(spoolId)}`, 'not-found');
  const shown: Record<string, unknown> = { ...(await summary(job)) };
  if (withPayload) Object.assign(shown, { content_type: job.data.contentType, headers: job.data.headers, payload: Buffer.from(job.data.body, 'base64').toString('utf8') });
  return shown;
}

async function replayJob(job: Job<SpooledDelivery>): Promise<boolean> {
  if ((await job.getState()) !== 'failed') return false;
  // Back to waiting with its attempt count reset: a replay gets max_attempts again.
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
}

export async function replayDelivery(queue: Queue<SpooledDelivery>, spoolId: string): Promise<void> {
  const job = await queue.getJob(spoolId);
  if (!job) throw new SpoolAdminError(`no spooled delivery ${JSON.stringify(spoolId)}`, 'not-found');
  if (!(await replayJob(job))) throw new SpoolAdminError(`${spoolId} is not dead-lettered (state ${await job.getState()})`, 'conflict');
}

export async function replayAllDead(queue: Queue<SpooledDelivery>, filter: DeliveryFilter): Promise<number> {
  let n = 0;
  for await (const j of jobsOf(queue, ['failed'])) if (filter(j.data) && (await replayJob(j))) n++;
  return n;
}

/** Removes dead letters that failed more than `olderThanMs` ago; the count removed. */
export async function purgeDead(queue: Queue<SpooledDelivery>, olderThanMs: number): Promise<number> {
  return (await queue.clean(olderThanMs, 0, 'failed')).length;
}
