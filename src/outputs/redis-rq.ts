/**
 * `redis_rq`: one Python RQ job per delivery, laid out in Redis exactly as
 * CWM's `Queue(queue_name).enqueue(function, payload, headers)` lays it out
 * with RQ's default (pickle) serializer, so an unmodified RQ worker runs
 * `function(payload, headers)`. The layout is RQ 1.13's (Debian's
 * python3-rq), Queue.enqueue_job and Job.to_dict:
 *
 * - hash `rq:job:<uuid4>`: `data` = zlib(pickle((function, None, (payload,
 *   headers), {}))), `status` queued, `origin` the queue, `description`
 *   `function(repr(payload)…, repr(headers)…)`, `created_at`/`enqueued_at`
 *   (`%Y-%m-%dT%H:%M:%S.%fZ`, UTC), `timeout` 180 (RQ's default), and the
 *   empty callback/started/ended/heartbeat/worker fields RQ writes;
 * - the id RPUSHed onto list `rq:queue:<queue_name>`;
 * - `rq:queue:<queue_name>` added to set `rq:queues` (what `rq info` lists).
 *
 * All three in one MULTI/EXEC: a 2xx means the job is in Redis, whole. Like
 * CWM, each delivery gets a fresh uuid4 job id; a webhook's `dedupe` keeps a
 * sender's retry from making a second job.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { redisConnection } from '../connections/redis.js';
import type { Delivery } from '../delivery/types.js';
import { ConfigError, UnavailableError } from '../errors.js';
import { PickleWriter } from './python-pickle.js';
import { ReprWriter } from './python-repr.js';
import { walkJson, walkStrDict, type PyValueSink } from './python-values.js';
import { defineOutput, nothingToClose } from './types.js';

const deflateAsync = promisify(deflate);
/**
 * Pickles up to this size are compressed on the event loop: measured on the
 * 2-core dev machine, a 1 KB one takes ~150 µs with deflateSync against ~500 µs
 * through the thread pool (the hand-off dominates); a 1 MB one blocks for
 * ~12 ms synchronously, so large ones go to the pool.
 */
const SYNC_DEFLATE_MAX_BYTES = 16 * 1024;

/** RQ's Queue.DEFAULT_TIMEOUT (seconds), which enqueue_job writes when the job sets none. */
const RQ_DEFAULT_TIMEOUT = '180';
/** rq.job.get_call_string's max_length for each argument in the description. */
const DESCRIPTION_ARG_CHARS = 75;

/** CWM's RedisRQModule function-name rules: 1 to 3 dotted identifiers, a few dangerous names refused. */
const FUNCTION_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,2}$/;
const BLOCKED_FUNCTION = /^(?:os|subprocess)\.|^(?:eval|exec|compile|__import__|open|file|input|raw_input|execfile|reload|getattr|setattr|delattr|hasattr|globals|locals|vars|dir|help|breakpoint)$|^__.*__$/;
const MAX_FUNCTION_CHARS = 255;

export function rqFunctionName(raw: string): string {
  const pointer = '/module-config/function';
  const name = raw.trim();
  if (!name) throw new ConfigError(pointer, 'must be a non-empty Python function path');
  if (name.length > MAX_FUNCTION_CHARS) throw new ConfigError(pointer, `is longer than ${MAX_FUNCTION_CHARS} characters`);
  if (BLOCKED_FUNCTION.test(name)) throw new ConfigError(pointer, 'names a function refused for safety (os.*, subprocess.*, eval, exec, open, getattr, __*__, …)');
  if (!FUNCTION_PATH.test(name)) throw new ConfigError(pointer, 'must be a Python function path: name, module.name or package.module.name');
  return name;
}

/** RQ's utcformat: microseconds, always six digits, and a Z. */
function rqTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** The payload as CWM's Python sees it: the JSON text's values (json.loads), or the body's bytes for blob webhooks. */
function walkPayload(delivery: Delivery, sink: PyValueSink): void {
  if (Buffer.isBuffer(delivery.payload)) sink.bytes(delivery.payload);
  else walkJson(delivery.rawBody.toString('utf8'), sink);
}

export interface RqJob {
  readonly id: string;
  readonly fields: Record<string, string | Buffer>;
}

export async function rqJob(func: string, queueName: string, delivery: Delivery, now = Date.now()): Promise<RqJob> {
  const pickle = new PickleWriter();
  pickle.beginTuple();
  pickle.str(func);
  pickle.none(); // no instance: a plain function
  pickle.beginTuple();
  walkPayload(delivery, pickle);
  walkStrDict(delivery.headers, pickle);
  pickle.endTuple();
  pickle.beginDict(); // no kwargs
  pickle.endDict();
  pickle.endTuple();
  const raw = pickle.finish();
  const data = raw.length <= SYNC_DEFLATE_MAX_BYTES ? deflateSync(raw) : await deflateAsync(raw);
  const payloadRepr = ReprWriter.truncated(DESCRIPTION_ARG_CHARS, (w) => walkPayload(delivery, w));
  const headersRepr = ReprWriter.truncated(DESCRIPTION_ARG_CHARS, (w) => walkStrDict(delivery.headers, w));
  const at = rqTimestamp(now);
  return {
    id: randomUUID(),
    fields: {
      created_at: at,
      data,
      success_callback_name: '',
      failure_callback_name: '',
      started_at: '',
      ended_at: '',
      last_heartbeat: '',
      worker_name: '',
      origin: queueName,
      description: `${func}(${payloadRepr}, ${headersRepr})`,
      enqueued_at: at,
      timeout: RQ_DEFAULT_TIMEOUT,
      status: 'queued',
    },
  };
}

async function enqueue(client: Redis, queueName: string, job: RqJob): Promise<void> {
  const queueKey = `rq:queue:${queueName}`;
  const replies = await client.multi().sadd('rq:queues', queueKey).hset(`rq:job:${job.id}`, job.fields).rpush(queueKey, job.id).exec();
  if (!replies) throw new UnavailableError('redis discarded the RQ enqueue transaction');
  for (const [err] of replies) if (err) throw err;
}

export const redisRqOutput = defineOutput({
  name: 'redis_rq',
  connectionTypes: [redisConnection],
  schema: Type.Object(
    {
      function: Type.String({ description: 'the Python function RQ workers run as function(payload, headers): name, module.name or package.module.name' }),
      queue_name: Type.Optional(Type.String({ minLength: 1, description: "default: the webhook's top-level queue_name, else \"default\"" })),
    },
    { additionalProperties: false },
  ),
  bind(cfg, spec, ctx) {
    const func = rqFunctionName(cfg.function);
    const queueName = cfg.queue_name ?? spec.queueName ?? 'default';
    return {
      async send(delivery: Delivery): Promise<void> {
        const conn = await ctx.connections.ready(spec.connection, redisConnection);
        const job = await rqJob(func, queueName, delivery);
        await conn.use(() => enqueue(conn.client, queueName, job));
      },
      close: nothingToClose,
    };
  },
});
