/**
 * redis_rq end to end: cwm serving a CWM-format config enqueues jobs; a real,
 * unmodified RQ worker (Debian's python3-rq, `rq worker --burst`) runs them
 * as tasks.record(payload, headers); what Python received is compared with
 * what Python's own json.loads makes of each body. The layout is compared
 * with a job RQ itself enqueues for the same arguments. Then Redis is killed
 * mid-traffic and restarted: every delivery answered 2xx is run by the
 * worker.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { makeConfigDir, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { makeRqTasks, PYTHON, runRqWorker, type RecordedJob } from '../helpers/rq.js';
import { outageWith, tally } from '../helpers/broker-outage.js';

const OUTPUT_TIMEOUT_MS = 1000;

let redis: RedisServer;
let dir: ConfigDir;
let cwm: CwmProcess;
let client: Redis;

before(async () => {
  redis = await startRedis({ durable: true });
  dir = makeConfigDir();
  // As CWM's docs write them: connection type redis-rq with host/port/db/password null.
  dir.write('connections.json', { redis_local: { type: 'redis-rq', host: '127.0.0.1', port: redis.port, db: 0, password: null } });
  dir.write('webhooks.json', {
    redis_rq_webhook: { data_type: 'json', module: 'redis_rq', connection: 'redis_local', 'module-config': { queue_name: 'webhook_jobs', function: 'tasks.record' }, authorization: 'Bearer token' },
    top_queue: { module: 'redis_rq', connection: 'redis_local', queue_name: 'top_jobs', 'module-config': { function: 'tasks.record' } },
    default_queue: { module: 'redis_rq', connection: 'redis_local', 'module-config': { function: 'tasks.record' } },
    blob: { data_type: 'blob', module: 'redis_rq', connection: 'redis_local', 'module-config': { queue_name: 'blob_jobs', function: 'tasks.record' } },
    chained: {
      chain: [{ module: 'log' }, { module: 'redis_rq', connection: 'redis_local', 'module-config': { queue_name: 'chain_jobs', function: 'tasks.record' } }],
      'chain-config': { execution: 'sequential' },
    },
    faults: { module: 'redis_rq', connection: 'redis_local', 'module-config': { queue_name: 'fault_jobs', function: 'tasks.record' } },
  });
  cwm = await startCwm({ CONFIG_DIR: dir.path, OUTPUT_TIMEOUT_MS: String(OUTPUT_TIMEOUT_MS) });
  client = new Redis(redis.url);
});

after(async () => {
  client.disconnect();
  assert.equal(await cwm.stop(), 0);
  await redis.destroy();
  dir.remove();
});

/** What Python holds after CWM's json.loads of each body: repr((payload, headers)), with the headers the worker reported. */
function expectedReprs(cases: readonly { body: string; headers: Record<string, string> }[]): string[] {
  const script = 'import sys, json\nprint(json.dumps([repr((json.loads(c["body"]), c["headers"])) for c in json.load(sys.stdin)]))';
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' })) as string[];
}

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(cwm.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

const BODIES: readonly string[] = [
  '{"event": "push", "n": 1}',
  '{"unicode": "café ☕ 日本語 😀", "rtl": "שלום", "escaped": "\\u00e9\\ud83d\\ude00", "lone": "\\udc00"}',
  '{"nested": {"a": [1, 2, {"b": {"c": [null, true, false, {}]}}], "empty": []}}',
  '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"x": 1}}, "inner": {"__proto__": [1, 2]}}',
  '{"int": 10, "float": 10.0, "exp": 1e2, "neg": -0, "big": 12345678901234567890, "tiny": 5e-324, "pi": 3.141592653589793, "int32": 2147483648}',
  '[1, "two", 3.0, null]',
  '{"dup": 1, "other": 2, "dup": "last wins"}',
  `{"long": "${'y'.repeat(5000)}"}`,
];

test('redis_rq: an unmodified RQ worker runs function(payload, headers) with exactly the payload sent and the headers', async (t: TestContext) => {
  const tasks = makeRqTasks();
  for (const [i, body] of BODIES.entries()) {
    const res = await post('/webhook/redis_rq_webhook', body, { authorization: 'Bearer token', 'x-github-delivery': `rq-${i}`, 'x-custom': `value ${i}` });
    assert.equal(res.status, 200, `body ${i}: ${await res.text()}`);
  }
  const unauthorised = await post('/webhook/redis_rq_webhook', '{}');
  assert.equal(unauthorised.status, 401, "CWM's authorization still guards the webhook");
  assert.equal(await client.llen('rq:queue:webhook_jobs'), BODIES.length, 'one job per accepted delivery, nothing for the refused one');

  // The layout against a job RQ itself enqueues with the same arguments (Queue.enqueue, default serializer).
  const [firstId] = await client.lrange('rq:queue:webhook_jobs', 0, 0);
  assert.ok(firstId);
  const layout = JSON.parse(
    execFileSync(
      PYTHON,
      [
        '-c',
        `
import sys, json, pickle, zlib, re, redis
from rq import Queue
r = redis.Redis.from_url(sys.argv[1])
cwm = r.hgetall('rq:job:' + sys.argv[2])
func, instance, args, kwargs = pickle.loads(zlib.decompress(cwm[b'data']))
ref_job = Queue('rq_reference', connection=r).enqueue(func, *args)
ref = r.hgetall(ref_job.key)
fmt = re.compile(rb'^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$')
print(json.dumps({
  'cwm_fields': sorted(k.decode() for k in cwm), 'ref_fields': sorted(k.decode() for k in ref),
  'differing': sorted(k.decode() for k in ref if k not in (b'data', b'created_at', b'enqueued_at', b'origin') and ref[k] != cwm.get(k)),
  'data_equal': pickle.loads(zlib.decompress(ref[b'data'])) == (func, instance, args, kwargs),
  'timestamps_ok': all(fmt.match(cwm[k]) for k in (b'created_at', b'enqueued_at')),
  'queues': sorted(q.decode() for q in r.smembers('rq:queues')),
}))
`,
        redis.url,
        firstId,
      ],
      { encoding: 'utf8' },
    ),
  ) as { cwm_fields: string[]; ref_fields: string[]; differing: string[]; data_equal: boolean; timestamps_ok: boolean; queues: string[] };
  assert.deepEqual(layout.cwm_fields, layout.ref_fields, 'the same hash fields as RQ writes');
  assert.deepEqual(layout.differing, [], 'the same values (description, status, timeout, callbacks …) as RQ writes');
  assert.ok(layout.data_equal, 'RQ pickles the same (function, instance, args, kwargs)');
  assert.ok(layout.timestamps_ok, "created_at / enqueued_at in RQ's format");
  assert.ok(layout.queues.includes('rq:queue:webhook_jobs'), 'the queue is registered in rq:queues');
  await client.del('rq:queue:rq_reference');

  const run = await runRqWorker(tasks, redis.url, ['webhook_jobs']);
  assert.equal(run.code, 0, run.output);
  const recorded = tasks.recorded();
  assert.equal(recorded.length, BODIES.length, `every job ran:\n${run.output.slice(-3000)}`);
  assert.equal(await client.llen('rq:queue:webhook_jobs'), 0);
  assert.equal(await client.zcard('rq:failed:webhook_jobs'), 0, 'no job failed');

  // Jobs are run in enqueue order; match each to its body by the header sent with it.
  const byCustom = new Map(recorded.map((r) => [r.headers['x-custom'], r]));
  const ordered = BODIES.map((_, i) => byCustom.get(`value ${i}`));
  assert.ok(ordered.every((r): r is RecordedJob => r !== undefined), 'each body ran once');
  const want = expectedReprs(BODIES.map((body, i) => ({ body, headers: ordered[i]!.headers })));
  for (const [i, r] of ordered.entries()) {
    assert.equal(r!.args_repr, want[i], `body ${i}: python received exactly what json.loads makes of it`);
    assert.equal(r!.description, r!.rq_description, `body ${i}: description as RQ writes it`);
    assert.equal(r!.origin, 'webhook_jobs');
    assert.equal(r!.timeout, 180);
    assert.equal(r!.headers['x-github-delivery'], `rq-${i}`);
    assert.equal(r!.headers.authorization, undefined, 'credentials are not handed to the job');
  }
  t.diagnostic(`rq worker ran ${recorded.length} jobs; e.g. ${ordered[4]!.args_repr.slice(0, 160)}`);
});

test("redis_rq: CWM's top-level queue_name, the default queue, blob bodies as bytes, and a chain", async () => {
  const tasks = makeRqTasks();
  assert.equal((await post('/webhook/top_queue', '{"q": "top"}')).status, 200);
  assert.equal((await post('/webhook/default_queue', '{"q": "default"}')).status, 200);
  assert.equal((await post('/webhook/chained', '{"q": "chain"}')).status, 200);
  const blob = Buffer.from([0x00, 0x27, 0x22, 0xff, 0x0a, 0x41]);
  assert.equal((await post('/webhook/blob', blob, { 'content-type': 'application/octet-stream' })).status, 200);
  const run = await runRqWorker(tasks, redis.url, ['top_jobs', 'default', 'chain_jobs', 'blob_jobs']);
  assert.equal(run.code, 0, run.output);
  const byOrigin = new Map(tasks.recorded().map((r) => [r.origin, r]));
  assert.deepEqual([...byOrigin.keys()].sort(), ['blob_jobs', 'chain_jobs', 'default', 'top_jobs']);
  assert.match(byOrigin.get('top_jobs')!.args_repr, /^\(\{'q': 'top'\}, \{/);
  assert.match(byOrigin.get('default')!.args_repr, /^\(\{'q': 'default'\}, \{/);
  assert.match(byOrigin.get('chain_jobs')!.args_repr, /^\(\{'q': 'chain'\}, \{/);
  // CWM hands blob webhooks' bodies to the function as bytes.
  assert.match(byOrigin.get('blob_jobs')!.args_repr, /^\(b'\\x00\\'"\\xff\\nA', \{/);
});


test('redis_rq: Redis killed mid-traffic → 503 fast; back → 200; every delivery answered 2xx is run by the worker', async (t: TestContext) => {
  const tasks = makeRqTasks();
  const drill = await outageWith((id) => post('/webhook/faults', JSON.stringify({ id, at: Date.now(), note: 'ünïcode' })), redis, OUTPUT_TIMEOUT_MS, 'rqkill');

  // SimpleWorker (RQ's own, no fork per job) drains the hundreds of jobs within the test's time.
  const run = await runRqWorker(tasks, redis.url, ['fault_jobs'], { simple: true, timeoutMs: 45_000 });
  assert.equal(run.code, 0, run.output.slice(-3000));
  const ran = tasks.recorded().map((r) => r.payload_id);
  const ranIds = new Set(ran.filter((id): id is string => typeof id === 'string'));
  const line = tally('redis kill (jobs run)', drill, ranIds);
  assert.equal(new Set(ran).size, ran.length, 'no delivery ran twice');
  assert.equal(await client.zcard('rq:failed:fault_jobs'), 0, 'no job failed (no half-written job)');
  t.diagnostic(`${line} ran=${ran.length}`);
});
