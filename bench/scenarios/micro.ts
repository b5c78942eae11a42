/**
 * In-process measurements behind claims made in comments:
 * - heap per loaded webhook: 25 000 webhooks that each carry authorization
 *   and rate_limit (the etcd-config scenario's configs) loaded into a
 *   ConfigManager as the etcd backend delivers them, heap measured after a
 *   full GC before and after (src/config/compile.ts, manager.ts);
 * - the one-shot digest against createHash (src/auth/constant-time.ts);
 * - the log line escape check against its regex (log-destination.ts);
 * - the JSON overflow pre-check against its regex (json-payload.ts);
 * - the log output's header copy against defineProperty per header (outputs/log.ts).
 */
import { createHash, hash } from 'node:crypto';
import { mayOverflow } from '../../src/http/json-payload.js';
import { escapeControls } from '../../src/observability/log-destination.js';
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

export const microScenario: Scenario = {
  name: 'micro',
  description: 'in-process micro measurements behind comments: heap per loaded webhook (authorization + rate_limit), crypto.hash vs createHash, log line escape check, JSON overflow pre-check, header copy',
  async run(ctx) {
    const count = ctx.smoke ? 2000 : 25_000;
    const rounds = ctx.smoke ? 20_000 : 200_000;
    // A first small load: code, shapes and shared tables are then in place and not charged to the measured one.
    await bytesPerWebhook(1000);
    const perWebhook = await bytesPerWebhook(count);
    const oneShot = nsPerCall((i) => hash('sha256', `Bearer tok-${i}`, 'buffer'), rounds);
    const hasher = nsPerCall((i) => createHash('sha256').update(`Bearer tok-${i}`).digest(), rounds);
    const line = JSON.stringify({ level: 30, time: Date.now(), namespace: 'demo', webhook_id: 'bench', output: 'log', payload: JSON.parse(PAYLOAD) as unknown, webhook_headers: HEADERS, msg: 'webhook received' });
    const escapeFast = nsPerCall(() => escapeControls(line), rounds);
    const escapeRegex = nsPerCall(() => ((CONTROLS.lastIndex = 0), CONTROLS.test(line)), rounds);
    const overflowFast = nsPerCall(() => mayOverflow(PAYLOAD), rounds);
    const overflowRegex = nsPerCall(() => OVERFLOW.test(PAYLOAD), rounds);
    const copyNull = nsPerCall(() => copyNullPrototype(HEADERS), rounds);
    const copyDefine = nsPerCall(() => copyDefineProperty(HEADERS), rounds);
    return [
      { measure: `heap per loaded webhook (authorization + rate_limit), ${count} loaded`, value: perWebhook, unit: 'bytes' },
      { measure: 'sha256 digest, crypto.hash', value: oneShot, unit: 'ns' },
      { measure: 'sha256 digest, createHash', value: hasher, unit: 'ns' },
      { measure: 'crypto.hash / createHash', value: oneShot / hasher, unit: 'x' },
      { measure: `log line escape check (${line.length} characters), fast path`, value: escapeFast, unit: 'ns' },
      { measure: 'log line escape check, regex test', value: escapeRegex, unit: 'ns' },
      { measure: `JSON overflow pre-check (${Buffer.byteLength(PAYLOAD)}-byte body)`, value: overflowFast, unit: 'ns' },
      { measure: 'JSON overflow pre-check, one regex', value: overflowRegex, unit: 'ns' },
      { measure: 'header copy (8 headers), null prototype', value: copyNull, unit: 'ns' },
      { measure: 'header copy (8 headers), defineProperty', value: copyDefine, unit: 'ns' },
    ];
  },
};
