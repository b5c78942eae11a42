/**
 * In-process measurements behind claims made in comments:
 * - heap per loaded webhook: 25 000 webhooks that each carry authorization
 *   and rate_limit (the etcd-config scenario's configs) loaded into a
 *   ConfigManager as the etcd backend delivers them, heap measured after a
 *   full GC before and after (src/config/compile.ts, manager.ts);
 * - the one-shot digest against createHash (src/auth/constant-time.ts);
 * - the log batch's escape check (bytes scan) against scanning each line's
 *   string and against the regex (log-destination.ts);
 * - the log line censoring (one pass against a Set) against a lookup per
 *   sensitive name (observability/logger.ts);
 * - the JSON overflow pre-check against its regex (json-payload.ts);
 * - the log output's header copy against defineProperty per header (outputs/log.ts).
 */
import { createHash, hash } from 'node:crypto';
import { mayOverflow } from '../../src/http/json-payload.js';
import { encodeEscaped } from '../../src/observability/log-destination.js';
import { censorNested } from '../../src/observability/logger.js';
import { SENSITIVE_KEYS } from '../../src/observability/sensitive.js';
import { PAYLOAD } from '../lib/payload.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gridEntries, securedHookValue } from '../../test/helpers/etcd-seed.js';
import { parseKey, type EntryKey } from '../../src/config/keys.js';
import type { RawEntry } from '../../src/config/provider.js';
import { median } from '../lib/compare.js';
import { inProcessManager } from '../lib/in-process-manager.js';
import type { Scenario } from '../lib/scenario.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function bytesPerWebhook(count: number): Promise<number> {
  const before = heapAfterGc();
  // Made after the first measurement: what the manager keeps of them is charged to it, the rest is garbage.
  const entries: RawEntry[] = gridEntries(count / 5, 5, '/cwm/', securedHookValue).map((e, i) => ({ key: parseKey('/cwm/', e.key) as EntryKey, value: e.value, source: e.key, revision: i + 2 }));
  const manager = inProcessManager();
  // The entries are the provider's: dropped once handed over, as the etcd provider drops its page.
  manager.replaceAll(entries.splice(0));
  const after = heapAfterGc();
  if (manager.size !== count) throw new Error(`expected ${count} webhooks, loaded ${manager.size}`);
  await manager.closeAll();
  return (after - before) / count;
}

/** Median nanoseconds per call of `f(i)` over 5 runs of `rounds` calls (after one untimed run). */
function nsPerCall(f: (i: number) => unknown, rounds: number): number {
  const samples: number[] = [];
  let sink: unknown;
  for (let r = 0; r < 6; r++) {
    const started = performance.now();
    for (let i = 0; i < rounds; i++) sink = f(i);
    if (r > 0) samples.push(((performance.now() - started) * 1e6) / rounds);
  }
  if (sink === Symbol.for('never')) throw new Error('unreachable');
  return median(samples);
}

const CONTROLS = /[\u007f-\u009f]/g;
const BATCH_LINES = 32;
const OVERFLOW = /\d[eE][+]?\d{3}|\d{100}/;
const HEADERS: Readonly<Record<string, string>> = { host: 'cwm.example', 'user-agent': 'GitHub-Hookshot/abc', accept: '*/*', 'content-type': 'application/json', 'content-length': '573', 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-hub-signature-256': 'sha256=00' };

function copyDefineProperty(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

function copyNullPrototype(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const k of Object.keys(headers)) out[k] = headers[k] as string;
  return out;
}

/** The censoring censorNested replaced: Object.hasOwn per sensitive name, on the value and on each child. */
function censorByLookups(value: Record<string, unknown>): Record<string, unknown> {
  const own = (v: Record<string, unknown>): Record<string, unknown> => {
    let copy: Record<string, unknown> | undefined;
    for (const name of SENSITIVE_KEYS) {
      if (!Object.hasOwn(v, name)) continue;
      copy ??= { ...v };
      copy[name] = '[redacted]';
    }
    return copy ?? v;
  };
  let out = own(value);
  for (const key of Object.keys(out)) {
    const child = out[key];
    if (child === null || typeof child !== 'object') continue;
    const censored = own(child as Record<string, unknown>);
    if (censored !== child) out = { ...out, [key]: censored };
  }
  return out;
}

export const microScenario: Scenario = {
  name: 'micro',
  description: 'in-process micro measurements behind comments: heap per loaded webhook (authorization + rate_limit), crypto.hash vs createHash, log escape check, log line censoring, JSON overflow pre-check, header copy',
  async run(ctx) {
    const count = ctx.smoke ? 2000 : 25_000;
    const rounds = ctx.smoke ? 20_000 : 200_000;
    // A first small load: code, shapes and shared tables are then in place and not charged to the measured one.
    await bytesPerWebhook(1000);
    const perWebhook = await bytesPerWebhook(count);
    const oneShot = nsPerCall((i) => hash('sha256', `Bearer tok-${i}`, 'buffer'), rounds);
    const hasher = nsPerCall((i) => createHash('sha256').update(`Bearer tok-${i}`).digest(), rounds);
    const line = JSON.stringify({ level: 30, time: Date.now(), namespace: 'demo', webhook_id: 'bench', output: 'log', payload: JSON.parse(PAYLOAD) as unknown, webhook_headers: HEADERS, msg: 'webhook received' });
    // A batch as the destination writes it: 32 lines, each a concatenated (not yet flat) string as pino makes it.
    const lineTail = line.slice(line.indexOf(',"namespace"'));
    const batchOf = (i: number): string[] => Array.from({ length: BATCH_LINES }, (_, j) => `{"level":30,"time":${i + j}` + lineTail + '\n');
    const scanLines = (lines: string[]): Buffer => {
      for (const l of lines) if (l.indexOf('\x7f') !== -1 || Buffer.byteLength(l) !== l.length) throw new Error('plain lines expected');
      return Buffer.from(lines.join(''));
    };
    const batchRounds = Math.max(1, Math.round(rounds / BATCH_LINES));
    const escapeBatch = nsPerCall((i) => encodeEscaped(batchOf(i).join('')), batchRounds) / BATCH_LINES;
    const escapeEachLine = nsPerCall((i) => scanLines(batchOf(i)), batchRounds) / BATCH_LINES;
    const encodeOnly = nsPerCall((i) => Buffer.from(batchOf(i).join('')), batchRounds) / BATCH_LINES;
    const escapeRegex = nsPerCall(() => ((CONTROLS.lastIndex = 0), CONTROLS.test(line)), rounds);
    const overflowFast = nsPerCall(() => mayOverflow(PAYLOAD), rounds);
    const overflowRegex = nsPerCall(() => OVERFLOW.test(PAYLOAD), rounds);
    const payload = JSON.parse(PAYLOAD) as Record<string, unknown>;
    const censorSet = nsPerCall(() => [censorNested(payload), censorNested(HEADERS)], rounds);
    const censorLookups = nsPerCall(() => [censorByLookups(payload), censorByLookups(HEADERS)], rounds);
    const copyNull = nsPerCall(() => copyNullPrototype(HEADERS), rounds);
    const copyDefine = nsPerCall(() => copyDefineProperty(HEADERS), rounds);
    return [
      { measure: `heap per loaded webhook (authorization + rate_limit), ${count} loaded`, value: perWebhook, unit: 'bytes' },
      { measure: 'sha256 digest, crypto.hash', value: oneShot, unit: 'ns' },
      { measure: 'sha256 digest, createHash', value: hasher, unit: 'ns' },
      { measure: 'crypto.hash / createHash', value: oneShot / hasher, unit: 'x' },
      { measure: `log batch of ${BATCH_LINES} ${line.length}-character lines made and encoded, per line: no escape check`, value: encodeOnly, unit: 'ns' },
      { measure: 'the same, escape check by a bytes scan of the encoded batch', value: escapeBatch, unit: 'ns' },
      { measure: 'the same, escape check by a string scan of each line (indexOf DEL + byteLength)', value: escapeEachLine, unit: 'ns' },
      { measure: 'log escape check, regex test', value: escapeRegex, unit: 'ns' },
      { measure: 'log line censoring (push payload + 8 headers), one pass against a Set', value: censorSet, unit: 'ns' },
      { measure: 'log line censoring, Object.hasOwn per sensitive name', value: censorLookups, unit: 'ns' },
      { measure: `JSON overflow pre-check (${Buffer.byteLength(PAYLOAD)}-byte body)`, value: overflowFast, unit: 'ns' },
      { measure: 'JSON overflow pre-check, one regex', value: overflowRegex, unit: 'ns' },
      { measure: 'header copy (8 headers), null prototype', value: copyNull, unit: 'ns' },
      { measure: 'header copy (8 headers), defineProperty', value: copyDefine, unit: 'ns' },
    ];
  },
};
