/**
 * The RQ job cwm writes, judged by Python itself (Debian's python3 with
 * python3-rq, independent of the code under test): pickle.loads of the job's
 * data equals json.loads of the body with the same types and key order
 * (repr tells 10 from 10.0 and shows order), and the description equals
 * what RQ's own get_call_string makes of those arguments. Plus CWM's
 * function-name rules, through the receiver's validate + compile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import type { Delivery } from '../../src/delivery/types.js';
import { decodeJson } from '../../src/http/json-payload.js';
import { PickleWriter } from '../../src/outputs/python-pickle.js';
import { floatRepr } from '../../src/outputs/python-repr.js';
import { rqJob } from '../../src/outputs/redis-rq.js';
import { judgeWebhook } from '../helpers/judge-webhook.js';

/** Debian's interpreter, where python3-rq is installed (a pyenv python3 earlier on PATH has no rq). */
const PYTHON = '/usr/bin/python3';

const HEADERS = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-quote': `it's "quoted"`, 'x-unicode': 'café ☕' };

function delivery(body: Buffer, blob = false): Delivery {
  return { id: 'd-1', namespace: 'ns', webhookId: 'hook', receivedAt: 0, headers: HEADERS, payload: blob ? body : decodeJson(body, 64), rawBody: body, contentType: 'application/json' };
}

const BODIES: readonly string[] = [
  '{"a": 1, "b": 10.0, "c": 1e2, "d": -0, "e": -0.0, "f": 12345678901234567890, "g": -98765432109876543210987654321}',
  '{"ints": [0, 255, 256, 65535, 65536, -1, -128, -129, 2147483647, 2147483648, -2147483648, -2147483649, 9007199254740993]}',
  '{"floats": [0.1, 1.5e-7, 1e16, 1e15, 123456789012345680000, 5e-324, 1.7976931348623157e308, -2.5, 0.0001, 0.00001]}',
  '{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}, "toString": "x"}',
  '{"unicode": "café ☕ 日本語 😀 \\ud83d\\ude00", "lone": "\\ud800", "ctl": "\\u0000\\u001f\\u007f\\u0085\\u00a0\\u200b\\u2028", "esc": "tab\\tnl\\nq\'d\\"b\\\\"}',
  '{"dup": 1, "x": 2, "dup": 3}',
  '{"outer": {"k": 1, "__proto__": 0, "k": 2, "__proto__": [1]}, "dup": [1], "dup": {"a": 1.5}}',
  '[null, true, false, [], {}, [[[]]], {"n": {"m": {"k": [1, {"z": null}]}}}]',
  '"just a string with \' quote"',
  '42',
  '\ufeff{"bom": true}',
  `{"long": "${'x'.repeat(300)}", "astral": "${'😀'.repeat(100)}"}`,
  // 300 digits: the most the receiver takes (a double must not overflow), 125 bytes in pickle's LONG1.
  `{"huge": ${'9'.repeat(300)}, "neghuge": -${'1'.repeat(300)}, "edge": [127, 128, -256, 32767, 32768, 4294967296, -4294967297]}`,
  ` \n\t{ "spaced" :\r\n [ 1 , 2 ] } \n`,
];

interface PyVerdict {
  readonly same: boolean;
  readonly got: string;
  readonly want: string;
  readonly description: string;
  readonly rqDescription: string;
}

/** For each job: what Python finds in its data against json.loads of the body (or the bytes), and RQ's own description. */
function judgeInPython(cases: readonly { data: Buffer; body: Buffer; blob: boolean; description: string }[]): PyVerdict[] {
  const script = `
import sys, json, pickle, zlib, base64
from rq.utils import get_call_string
out = []
for c in json.load(sys.stdin):
    func, instance, args, kwargs = pickle.loads(zlib.decompress(base64.b64decode(c['data'])))
    body = base64.b64decode(c['body'])
    want = (body if c['blob'] else json.loads(body.decode('utf-8-sig')), ${JSON.stringify(HEADERS)})
    got = tuple(args)
    out.append({'same': repr(got) == repr(want) and func == 'tasks.record' and instance is None and kwargs == {} and type(args) is tuple,
                'got': repr(got), 'want': repr(want), 'description': c['description'],
                'rqDescription': get_call_string(func, args, kwargs, max_length=75)})
print(json.dumps(out))
`;
  const input = JSON.stringify(cases.map((c) => ({ data: c.data.toString('base64'), body: c.body.toString('base64'), blob: c.blob, description: c.description })));
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input, encoding: 'utf8' })) as PyVerdict[];
}

test('RQ job data and description: what Python and RQ make of the same payload and headers', async () => {
  const blobs = [Buffer.from([0, 1, 2, 0x27, 0x7f, 0x80, 0xff]), Buffer.from('plain "text" body'), Buffer.alloc(70_000, 0x61)];
  const cases = [...BODIES.map((b) => ({ body: Buffer.from(b), blob: false })), ...blobs.map((b) => ({ body: b, blob: true }))];
  const jobs = await Promise.all(cases.map((c) => rqJob('tasks.record', 'q', delivery(c.body, c.blob))));
  const verdicts = judgeInPython(cases.map((c, i) => ({ ...c, data: jobs[i]!.fields.data as Buffer, description: jobs[i]!.fields.description as string })));
  for (const [i, v] of verdicts.entries()) {
    assert.ok(v.same, `case ${i}: python got ${v.got.slice(0, 300)}\nwant ${v.want.slice(0, 300)}`);
    assert.equal(v.description, v.rqDescription, `case ${i}: description`);
  }
  // Protocol 4, as pickle.loads reads it; zlib-wrapped, as RQ's zlib.decompress wants.
  const pickle = inflateSync(jobs[0]!.fields.data as Buffer);
  assert.deepEqual([...pickle.subarray(0, 2)], [0x80, 4]);
});

test('RQ job hash fields: the ones RQ 1.13 enqueue_job writes, with its formats', async () => {
  const job = await rqJob('tasks.record', 'jobs', delivery(Buffer.from('{}')), Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  assert.match(job.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const { data, ...rest } = job.fields;
  assert.ok(Buffer.isBuffer(data));
  assert.deepEqual(rest, {
    created_at: '2026-01-02T03:04:05.678000Z',
    enqueued_at: '2026-01-02T03:04:05.678000Z',
    success_callback_name: '',
    failure_callback_name: '',
    started_at: '',
    ended_at: '',
    last_heartbeat: '',
    worker_name: '',
    origin: 'jobs',
    description: "tasks.record({}, {'content-type': 'application/json', 'x-github-event': 'push', 'x-quote': '...)",
    timeout: '180',
    status: 'queued',
  });
});

test("pickle ints of more than 255 bytes (LONG4), and the size boundaries of str and bytes, as pickle.loads reads them", () => {
  const w = new PickleWriter();
  w.beginList();
  for (const lit of [`${'9'.repeat(700)}`, `-${'8'.repeat(700)}`, '-1', '0']) w.int(lit);
  for (const n of [85, 86, 255, 256]) w.str('é'.repeat(n));
  for (const n of [255, 256]) w.bytes(Buffer.alloc(n, 7));
  w.endList();
  const script = `import sys, pickle, json
v = pickle.loads(sys.stdin.buffer.read())
want = [int('9' * 700), -int('8' * 700), -1, 0] + ['\u00e9' * n for n in (85, 86, 255, 256)] + [bytes([7]) * n for n in (255, 256)]
print(json.dumps(v == want))`;
  assert.equal(execFileSync(PYTHON, ['-c', script], { input: w.finish(), encoding: 'utf8' }).trim(), 'true');
});

test("float repr: Python's repr for the shapes where it differs from JavaScript's toString", () => {
  const want = execFileSync(PYTHON, ['-c', 'import sys, json; print(json.dumps([repr(float(x)) for x in json.load(sys.stdin)]))'], { input: JSON.stringify(['1e16', '1e15', '123456789012345680000', '1e-5', '0.0001', '5e-324', '-0.0', '2.5', '1.7976931348623157e308', '1e22', '100', '0.1']), encoding: 'utf8' });
  const got = [1e16, 1e15, 123456789012345680000, 1e-5, 0.0001, 5e-324, -0, 2.5, 1.7976931348623157e308, 1e22, 100, 0.1].map(floatRepr);
  assert.deepEqual(got, JSON.parse(want));
});


/** The schema's errors, else compile's ConfigError, else '' (valid). */
function judge(moduleConfig: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  return judgeWebhook({ module: 'redis_rq', connection: 'r', 'module-config': moduleConfig, ...top });
}

test("redis_rq config: CWM's function-name rules; function required; unknown fields refused", () => {
  for (const ok of ['process_data', 'utils.process', 'myapp.tasks.process_webhook', '  padded.name  ', 'osx.tasks.run', 'evaluate']) assert.equal(judge({ function: ok }), '', ok);
  for (const [bad, reason] of [
    ['os.system', /refused for safety/],
    ['subprocess.run', /refused for safety/],
    ['eval', /refused for safety/],
    ['__import__', /refused for safety/],
    ['__builtins__', /refused for safety/],
    ['a.b.c.d', /must be a Python function path/],
    ['../etc.passwd', /must be a Python function path/],
    ['x;rm', /must be a Python function path/],
    ['tasks.run()', /must be a Python function path/],
    ['', /non-empty/],
    ['   ', /non-empty/],
    [`m.${'f'.repeat(260)}`, /longer than 255/],
  ] as const) assert.match(judge({ function: bad }), reason, bad);
  assert.match(judge({ queue_name: 'q' }), /required property 'function'/);
  assert.match(judge({ function: 'a.b', bogus: 1 }), /additional properties/);
  assert.match(judge({ function: 'a.b', queue_name: '' }), /fewer than 1 characters/);
  assert.equal(judge({ function: 'a.b' }, { queue_name: 'top' }), '');
});
