/**
 * `cwm deliveries`: the durable spool's deliveries (BullMQ jobs under the
 * cwm-spool prefix) on the Redis given by --redis: list, show, replay dead
 * letters, purge old ones. Payloads are printed only with --payload.
 */
import type { Queue } from 'bullmq';
import { SPOOL_PREFIX, SPOOL_QUEUE, type SpooledDelivery } from '../delivery/spool.js';
import { filterOf, listDeliveries, parseDuration, purgeDead, replayAllDead, replayDelivery, showDelivery, SpoolAdminError } from '../delivery/spool-admin.js';
import { CliError, EXIT, out, parseCommand, stringFlag, usageError, invalidInput, type Command } from './common.js';

export { parseDuration } from '../delivery/spool-admin.js';

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
    // Bad arguments are refused before Redis is contacted.
    const filter = verb === 'list' || (verb === 'replay' && parsed.values['all-dead'] === true) ? asUsage(() => filterOf(arg)) : undefined;
    const older = stringFlag(parsed, 'older-than');
    if (verb === 'purge' && (parsed.values.dead !== true || older === undefined || arg !== undefined)) throw usageError('purge takes --dead --older-than <duration>');
    const olderMs = verb === 'purge' && older !== undefined ? asUsage(() => parseDuration(older)) : 0;
    if ((verb === 'show' || (verb === 'replay' && !filter)) && arg === undefined) throw usageError(`${verb} needs a spool id`);
    const queue = await openQueue(url);
    try {
      if (verb === 'list' && filter) {
        for (const d of await listDeliveries(queue, parsed.values.dead === true, filter)) {
          out([d.spool_id, `${d.namespace}/${d.webhook_id}`, d.delivery_id, `attempts=${d.attempts}`, d.spooled_at ?? '-', d.last_error ? JSON.stringify(d.last_error) : ''].join('\t').trimEnd());
        }
      } else if (verb === 'purge') {
        out(`removed ${await purgeDead(queue, olderMs)} dead letter(s)`);
      } else if (verb === 'replay' && filter) {
        out(`replayed ${await replayAllDead(queue, filter)} dead letter(s)`);
      } else if (arg === undefined) {
        throw usageError(`${verb} needs a spool id`);
      } else if (verb === 'replay') {
        await replayDelivery(queue, arg);
        out(`replayed ${arg}`);
      } else {
        out(JSON.stringify(await showDelivery(queue, arg, parsed.values.payload === true), null, 2));
      }
      return EXIT.ok;
    } catch (e) {
      if (e instanceof SpoolAdminError) throw e.kind === 'bad-request' ? usageError(e.message) : invalidInput(e.message);
      throw e;
    } finally {
      await queue.close();
      await queue.disconnect().catch(() => undefined);
    }
  },
};

function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof SpoolAdminError ? usageError(e.message) : e;
  }
}
