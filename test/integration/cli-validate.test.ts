import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: string;
const file = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

before(() => {
  dir = tempDir('cwm-cli-validate-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a valid webhook file exits 0', async () => {
  const r = await runCli(['validate', file('ok.json', { module: 'log', json_schema: { type: 'object' } })]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid webhook config/);
});

test('an invalid webhook exits 1 and names each problem by JSON pointer, without echoing values', async () => {
  const r = await runCli(['validate', file('bad.json', { module: 'log', data_type: 'xml', hmac: { secret: 'TOPSECRET', algorithm: 'md5' }, extra: 1 })]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/data_type must be equal to one of the allowed values/);
  assert.match(r.stderr, /\/hmac\/algorithm must be equal to one of the allowed values/);
  assert.match(r.stderr, /\/ must NOT have additional properties: extra/);
  assert.doesNotMatch(r.stderr, /TOPSECRET/);
});

test('reads stdin for "-", and checks connections with --kind connection', async () => {
  assert.equal((await runCli(['validate', '--kind', 'connection', '-'], { input: '{"type":"redis","url":"redis://127.0.0.1:6379"}' })).code, 0);
  const bad = await runCli(['validate', '--kind', 'connection', '-'], { input: '{"type":"kafka"}' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /stdin: invalid/);
});

test('{$NAME} placeholders are filled from the environment under CONFIG_ENV_ALLOWLIST, as the receiver does', async () => {
  const conn = '{"type":"redis","url":"{$CWM_REDIS_URL}"}';
  const unset = await runCli(['validate', '--kind', 'connection', '-'], { input: conn });
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /\/url: environment variable CWM_REDIS_URL is not set and has no default/);
  assert.equal((await runCli(['validate', '--kind', 'connection', '-'], { input: conn, env: { CWM_REDIS_URL: 'redis://r:6379' } })).code, 0);
  const wrongValue = await runCli(['validate', '--kind', 'connection', '-'], { input: conn, env: { CWM_REDIS_URL: 'http://r' } });
  assert.equal(wrongValue.code, 1, 'the substituted value is what gets checked');
  assert.equal((await runCli(['validate', '-'], { input: '{"module":"log","authorization":"Bearer {$CWM_T:fallback}"}' })).code, 0);
  const forbidden = await runCli(['validate', '-'], { input: '{"module":"log","authorization":"Bearer {$AWS_SECRET_ACCESS_KEY}"}', env: { AWS_SECRET_ACCESS_KEY: 'x' } });
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stderr, /AWS_SECRET_ACCESS_KEY is not allowed by CONFIG_ENV_ALLOWLIST/);
});

test('a json_schema that ajv cannot compile is reported', async () => {
  const r = await runCli(['validate', file('schema.json', { module: 'log', json_schema: { type: 'no-such-type' } })]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/json_schema is not a valid JSON Schema/);
});

test('--many checks every name and config of a webhooks.json', async () => {
  const ok = await runCli(['validate', '--many', file('webhooks.json', '{"a":{"module":"log"},"__proto__":{"module":"log"}}')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /#__proto__: accepted-with-changes\n/);
  assert.match(ok.stdout, /^summary: 2 entries: 0 accepted, 2 accepted-with-changes, 0 refused$/m);
  const bad = await runCli(['validate', '--many', file('webhooks-bad.json', { 'bad name': { module: 'log' }, b: { module: 'nope' } })]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /#bad name: refused\n {2}name must match/);
  assert.match(bad.stdout, /#b: refused\n {2}\/module must be equal to one of the allowed values/);
});

test('unreadable and non-JSON files exit 1 with the reason', async () => {
  const missing = await runCli(['validate', join(dir, 'nope.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.json: cannot read: ENOENT/);
  const garbage = await runCli(['validate', file('garbage.json', '{ module: log')]);
  assert.equal(garbage.code, 1);
  assert.match(garbage.stderr, /not valid JSON/);
});

test('bad arguments exit 2 with the usage', async () => {
  for (const args of [['validate'], ['validate', 'a', 'b'], ['validate', '--kind', 'queue', 'x'], ['validate', '--nope', 'x'], ['frobnicate'], ['serve', 'extra']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: cwm/, args.join(' '));
  }
});

test('an invalid environment variable stops serve with exit 2 and names the variable', async () => {
  const r = await runCli(['serve'], { env: { ACCESS_LOG: 'maybe' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ACCESS_LOG must be true or false/);
});

test('--help works for cwm and every command', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  for (const c of ['serve', 'validate', 'put', 'import', 'export', 'list']) {
    assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'));
    const r = await runCli([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, new RegExp(`^usage: cwm ${c}`), c);
  }
});

test('validate refuses what the receiver would drop, each with a JSON pointer (the receiver\'s own compile step)', async () => {
  const cases: [unknown, RegExp][] = [
    [{ module: 'kafka', 'module-config': { topic: 't' } }, /\/ must have required property 'connection'/],
    [{ module: 'redis_queue', 'module-config': { queue_name: 'q' } }, /\/ must have required property 'connection'/],
    [{ module: 'redis_queue', connection: 'r', 'module-config': { queue_nam: 'q' } }, /\/module-config must NOT have additional properties: queue_nam/],
    [{ module: 'redis_publish', connection: 'r', 'module-config': { channel: '' } }, /\/module-config\/channel must NOT have fewer than 1 characters/],
    [{ module: 'log', ip_whitelist: ['10.0.0.0/40'] }, /\/ip_whitelist "10\.0\.0\.0\/40" has an invalid prefix length/],
    [{ module: 'log', 'module-config': { pretty_print: 'yes' } }, /\/module-config\/pretty_print must be boolean/],
    [{ module: 'kafka', connection: 'k', 'module-config': { key: '$..x' } }, /\/module-config\/topic is required for kafka/],
  ];
  for (const [config, expected] of cases) {
    const r = await runCli(['validate', '-'], { input: JSON.stringify(config) });
    assert.equal(r.code, 1, JSON.stringify(config));
    assert.match(r.stderr, expected, JSON.stringify(config));
  }
});

test('DEFAULT_CONNECTIONS: an output naming no connection uses the default of its type; a bad value is refused, naming the variable', async () => {
  const kafka = JSON.stringify({ module: 'kafka', 'module-config': { topic: 't' } });
  assert.equal((await runCli(['validate', '-'], { input: kafka, env: { DEFAULT_CONNECTIONS: 'kafka=kafka_main' } })).code, 0);
  const other = await runCli(['validate', '-'], { input: kafka, env: { DEFAULT_CONNECTIONS: 'redis=cache' } });
  assert.equal(other.code, 1, 'a default of another type does not apply');
  assert.match(other.stderr, /\/ must have required property 'connection'/);
  const bad = await runCli(['validate', '-'], { input: kafka, env: { DEFAULT_CONNECTIONS: 'kafka' } });
  assert.equal(bad.code, 2, 'a malformed setting is a bad environment, as for serve');
  assert.match(bad.stderr, /DEFAULT_CONNECTIONS: "kafka" is not <connection type>=<connection name>/);
  const unknown = await runCli(['validate', '-'], { input: kafka, env: { DEFAULT_CONNECTIONS: 'kafak=k' } });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /DEFAULT_CONNECTIONS: "kafak" is not a connection type/);
});

test('a connection error names only the fields of the type that was meant', async () => {
  const r = await runCli(['validate', '--kind', 'connection', '-'], { input: '{"type":"redis","url":"redis://x","bootstrap_servers":"k:9092","prot":1}' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/ must NOT have additional properties: bootstrap_servers/);
  assert.match(r.stderr, /\/ must NOT have additional properties: prot/);
  assert.doesNotMatch(r.stderr, /must match exactly one schema in oneOf|sasl|client_id/);
});

test('a JSON syntax error never quotes the input (it may hold secrets)', async () => {
  const r = await runCli(['validate', '-'], { input: '{"module":"log","authorization": Bearer-s3cret-token}' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/ not valid JSON: syntax error/);
  assert.doesNotMatch(r.stderr, /s3cret|Bearer|"B"|'B'/);
});
