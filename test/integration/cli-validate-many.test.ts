/**
 * `cwm validate --many` on CWM's own webhooks.json / connections.json
 * (test/data/cwm-corpus): one verdict per entry (accepted,
 * accepted-with-changes with what differs from CWM, refused with the JSON
 * pointer), a summary line, exit 0 only when nothing is refused, and no
 * secret value printed. The verdicts are the receiver's judge's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeCorpus } from '../../scripts/corpus.js';
import { isCommentEntry } from '../../src/config/keys.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'test', 'data', 'cwm-corpus');

interface Parsed {
  readonly verdicts: Map<string, { verdict: string; lines: string[] }>;
  readonly summary: string;
}

function parse(stdout: string, file: string): Parsed {
  const verdicts = new Map<string, { verdict: string; lines: string[] }>();
  let current: string[] | undefined;
  let summary = '';
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}#(.*): (accepted|accepted-with-changes|refused)$`).exec(line);
    if (m) {
      current = [];
      assert.ok(!verdicts.has(m[1] as string), `one verdict per entry: ${m[1]}`);
      verdicts.set(m[1] as string, { verdict: m[2] as string, lines: current });
    } else if (line.startsWith('  ') && current) current.push(line.slice(2));
    else if (line.startsWith('summary: ')) summary = line;
    else assert.equal(line, '', `unexpected line ${JSON.stringify(line)}`);
  }
  return { verdicts, summary };
}

/** String values long enough to be recognisable, under keys that hold credentials. */
function secretValues(doc: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (/secret|password|pass|token|authorization|key/i.test(key) && v.length >= 12 && !v.includes('{$')) found.push(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(doc, '');
  return found;
}

for (const [kind, file] of [['webhook', 'webhooks.json'], ['connection', 'connections.json']] as const) {
  test(`validate --many on CWM's ${file}: a verdict per entry, a summary that adds up, exit 1 (some are refused), no secret printed`, async () => {
    const path = join(CORPUS, file);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const r = await runCli(['validate', '--many', '--kind', kind, path]);
    assert.equal(r.code, 1, r.stderr);
    const { verdicts, summary } = parse(r.stdout, path);
    const names = Object.entries(doc).filter(([n, v]) => !isCommentEntry(n, v)).map(([n]) => n);
    assert.deepEqual([...verdicts.keys()].sort(), names.sort());
    const count = (v: string): number => [...verdicts.values()].filter((x) => x.verdict === v).length;
    assert.equal(summary, `summary: ${names.length} entries: ${count('accepted')} accepted, ${count('accepted-with-changes')} accepted-with-changes, ${count('refused')} refused`);
    assert.ok(count('refused') > 0 && count('accepted') + count('accepted-with-changes') > 0);
    for (const [name, v] of verdicts) {
      if (v.verdict === 'accepted') assert.deepEqual(v.lines, [], name);
      else assert.ok(v.lines.length > 0, `${name}: ${v.verdict} says why`);
      // Every reason names where: a JSON pointer, or the name rule for the entry's own name.
      for (const line of v.lines) assert.match(line, /^(\/\S*|name must match) /, `${name}: ${line}`);
    }
    // The receiver's judge, under the corpus's representative environment, accepts at least what this CLI accepts.
    const judgeRefused = new Set(judgeCorpus(kind).refused.map((x) => x.name));
    for (const [name, v] of verdicts) if (v.verdict !== 'refused') assert.ok(!judgeRefused.has(name), `${name} accepted by the CLI, refused by the judge`);
    const secrets = secretValues(doc);
    assert.ok(secrets.length > 0, 'the corpus holds credentials to look for');
    for (const s of secrets) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'a secret value was printed');
    if (kind === 'webhook') {
      const short = [...verdicts].find(([, v]) => v.lines.some((l) => /^\/chain\/\d+ CWM's short form: read as \{"module": "/.test(l)));
      assert.ok(short, 'a bare chain module name is reported as normalized');
      assert.ok([...verdicts.values()].some((v) => v.lines.some((l) => l.startsWith('/ip_whitelist a client IP outside the list gets 403 (CWM: 401)'))), 'stricter status codes are reported');
    }
  });
}

test('exit 0 when nothing is refused; --strict also fails on accepted-with-changes', async () => {
  const dir = tempDir('cwm-many-');
  const same = join(dir, 'same.json');
  writeFileSync(same, JSON.stringify({ _comment: 'CWM note', a: { module: 'log', data_type: 'blob', credential_cleanup: { enabled: true } } }));
  const ok = await runCli(['validate', '--many', same]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.equal(ok.stdout, `${same}#a: accepted\nsummary: 1 entries: 1 accepted, 0 accepted-with-changes, 0 refused\n`);
  const changed = join(dir, 'changed.json');
  writeFileSync(changed, JSON.stringify({ a: { chain: ['log'], credential_cleanup: { enabled: true }, ip_whitelist: ['10.0.0.1'] } }));
  const loose = await runCli(['validate', '--many', changed]);
  assert.equal(loose.code, 0);
  assert.match(loose.stdout, /#a: accepted-with-changes\n {2}\/chain\/0 CWM's short form: read as \{"module": "log"\} \(same behaviour\)\n {2}\/ip_whitelist a client IP outside the list gets 403 \(CWM: 401\)\n {2}\/data_type json: a content type other than/);
  assert.equal((await runCli(['validate', '--many', '--strict', changed])).code, 1);
});
