/**
 * `cwm deliveries`: the durable spool's deliveries (BullMQ jobs under the
 * cwm-spool prefix) on the Redis given by --redis: list, show, replay dead
 * letters, purge old ones. Payloads are printed only with --payload.
 */
import type { Job, JobType, Queue } from 'bullmq';
import { isValidName } from '../config/keys.js';
import { SPOOL_PREFIX, SPOOL_QUEUE, type SpooledDelivery } from '../delivery/spool.js';
import { CliError, EXIT, out, parseCommand, stringFlag, usageError, invalidInput, type Command } from './common.js';

const PENDING: JobType[] = ['active', 'waiting', 'delayed', 'prioritized'];
const PAGE = 1000;

/** `namespace` or `namespace/id` → a job filter. */
function filterOf(arg: string | undefined): (d: SpooledDelivery) => boolean {
  if (arg === undefined) return () => true;
  const [ns, id, extra] = arg.split('/');
  if (extra !== undefined || ns === undefined || !isValidName(ns) || (id !== undefined && !isValidName(id))) throw usageError(`expected namespace or namespace/id, got ${JSON.stringify(arg)}`);
  return (d) => d.namespace === ns && (id === undefined || d.webhookId === id);
}

/** "90s", "15m", "12h", "7d" → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw usageError(`--older-than takes a number and s, m, h or d (e.g. 7d), got ${JSON.stringify(text)}`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

async function* jobsOf(queue: Queue<SpooledDelivery>, types: JobType[]): AsyncGenerator<Job<SpooledDelivery>> {
  for (let start = 0; ; start += PAGE) {
    const jobs = await queue.getJobs(types, start, start + PAGE - 1, true);
    for (const j of jobs) if (j) yield j;
    if (jobs.length < PAGE) return;
  }
}

const iso = (ms: number | undefined): string => (ms ? new Date(ms).toISOString() : '-');

async function openQueue(url: string): Promise<Queue<SpooledDelivery>> {
  const { Queue: BullQueue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new CliError(`cannot reach the spool Redis: ${(err as Error).message}`, EXIT.etcd);
  }
  const queue = new BullQueue<SpooledDelivery>(SPOOL_QUEUE, { connection: client, prefix: SPOOL_PREFIX });
  queue.on('error', () => undefined);
  return queue;
}

async function replayOne(job: Job<SpooledDelivery>): Promise<boolean> {
  if ((await job.getState()) !== 'failed') return false;
  // Back to waiting with its attempts count reset: a replay gets max_attempts again.
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
}

export const deliveriesCommand: Command = {
  name: 'deliveries',
  help: `usage: cwm deliveries <list|show|replay|purge> --redis <url> [options]

  list [--dead] [namespace[/id]]        spooled deliveries not yet delivered (--dead: dead letters)
  show <spool-id> [--payload]            state, attempts, last error, timestamps (payload only with --payload)
  replay <spool-id>                      a dead letter goes back to the spool with max_attempts again
  replay --all-dead [namespace[/id]]     every dead letter (of that namespace / webhook)
  purge --dead --older-than <duration>   removes dead letters older than e.g. 7d, 12h, 30m

The spool id is what the 202 answer's "spool_id" and "list" print.

options:
  --redis <url>   the spool's Redis (the connection SPOOL_CONNECTION names)

exit codes: 0 done, 1 no such delivery / not dead, 2 bad arguments, 3 Redis unreachable`,
  async run(argv) {
    const parsed = parseCommand(this, argv, { redis: { type: 'string' }, dead: { type: 'boolean' }, payload: { type: 'boolean' }, 'all-dead': { type: 'boolean' }, 'older-than': { type: 'string' } }, { min: 1, max: 2 });
    if (!parsed) return EXIT.ok;
    const [verb, arg] = parsed.positionals;
    const url = stringFlag(parsed, 'redis');
    if (!url) throw usageError(`--redis <url> is required\n\n${this.help}`);
    if (verb !== 'list' && verb !== 'show' && verb !== 'replay' && verb !== 'purge') throw usageError(`unknown subcommand ${JSON.stringify(verb)}\n\n${this.help}`);
    const queue = await openQueue(url);
    try {
      if (verb === 'list') {
        const keep = filterOf(arg);
        for await (const j of jobsOf(queue, parsed.values.dead === true ? ['failed'] : PENDING)) {
          if (!keep(j.data)) continue;
          out([j.id, `${j.data.namespace}/${j.data.webhookId}`, j.data.deliveryId, `attempts=${j.attemptsMade}`, iso(j.timestamp), j.failedReason ? JSON.stringify(j.failedReason) : ''].join('\t').trimEnd());
        }
        return EXIT.ok;
      }
      if (verb === 'purge') {
        const older = stringFlag(parsed, 'older-than');
        if (parsed.values.dead !== true || older === undefined || arg !== undefined) throw usageError('purge takes --dead --older-than <duration>');
        const removed = await queue.clean(parseDuration(older), 0, 'failed');
        out(`removed ${removed.length} dead letter(s)`);
        return EXIT.ok;
      }
      if (verb === 'replay' && parsed.values['all-dead'] === true) {
        const keep = filterOf(arg);
        let n = 0;
        for await (const j of jobsOf(queue, ['failed'])) if (keep(j.data) && (await replayOne(j))) n++;
        out(`replayed ${n} dead letter(s)`);
        return EXIT.ok;
      }
      if (arg === undefined) throw usageError(`${verb} needs a spool id`);
      const job = await queue.getJob(arg);
      if (!job) throw invalidInput(`no spooled delivery ${JSON.stringify(arg)}`);
      if (verb === 'replay') {
        if (!(await replayOne(job))) throw invalidInput(`${arg} is not dead-lettered (state ${await job.getState()})`);
        out(`replayed ${arg}`);
        return EXIT.ok;
      }
      const d = job.data;
      const shown: Record<string, unknown> = {
        spool_id: job.id, delivery_id: d.deliveryId, namespace: d.namespace, webhook_id: d.webhookId, state: (await job.getState()) === 'failed' ? 'dead' : await job.getState(),
        attempts: job.attemptsMade, max_attempts: job.opts.attempts, last_error: job.failedReason || null,
        received_at: iso(d.receivedAt), spooled_at: iso(job.timestamp), last_attempt_at: iso(job.processedOn), finished_at: iso(job.finishedOn),
      };
      if (parsed.values.payload === true) Object.assign(shown, { content_type: d.contentType, headers: d.headers, payload: Buffer.from(d.body, 'base64').toString('utf8') });
      out(JSON.stringify(shown, null, 2));
      return EXIT.ok;
    } finally {
      await queue.close();
      await queue.disconnect().catch(() => undefined);
    }
  },
};
