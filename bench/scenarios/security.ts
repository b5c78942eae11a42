/**
 * What request security costs: a log webhook with a github signature and a
 * json_schema, and one with every check (ip_whitelist, authorization, two
 * rotated github secrets, json_schema, in-process rate_limit), each against
 * the plain log webhook of the same cwm process under the same wrk load,
 * interleaved rounds. Goal: github + schema keeps ≥ 0.8× the plain throughput.
 * A pattern-heavy json_schema (pattern-schema.ts, RE2) is measured against the
 * plain webhook on the same, longer body in the same rounds. Then, on a cwm
 * process of its own, the pipelining flood (flood.ts).
 */
import { createHmac } from 'node:crypto';
import { compare, CONNECTIONS, loadFigures, ratioFigures } from '../lib/compare.js';
import { PAYLOAD } from '../lib/payload.js';
import { startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { BenchContext, Scenario } from '../lib/scenario.js';
import { floodFigures } from './flood.js';
import { configDir } from './http.js';
import { PATTERN_BODY, PATTERN_SCHEMA } from './pattern-schema.js';

const SECRET = 'bench-github-secret';
const TOKEN = 'Bearer bench-token';
/** Describes the push event of PAYLOAD the way a team would guard its webhook. */
const SCHEMA = {
  type: 'object',
  required: ['ref', 'after', 'repository', 'sender'],
  properties: {
    ref: { type: 'string', pattern: '^refs/' },
    after: { type: 'string', pattern: '^[0-9a-f]{40}$' },
    repository: { type: 'object', required: ['id', 'full_name'], properties: { id: { type: 'integer' }, full_name: { type: 'string' }, private: { type: 'boolean' } } },
    sender: { type: 'object', required: ['login'], properties: { login: { type: 'string' } } },
    head_commit: { type: 'object', properties: { timestamp: { type: 'string', format: 'date-time' }, modified: { type: 'array', items: { type: 'string' } } } },
  },
};

export const securityScenario: Scenario = {
  name: 'security',
  description: `log webhook with github signature + json_schema, and with every check, vs the plain log webhook of the same process; wrk, ${CONNECTIONS} connections, ${Buffer.byteLength(PAYLOAD)}-byte JSON body, interleaved rounds, medians; a pattern-heavy json_schema (RE2) vs plain on a ${Buffer.byteLength(PATTERN_BODY)}-byte body; then a pipelining flood (32 connections, /health probed on PORT and PROBE_PORT)`,
  async run(ctx: BenchContext) {
    const dir = configDir(ctx, 'security', {
      plain: { module: 'log' },
      signed: { module: 'log', signature: { scheme: 'github', secret: SECRET }, json_schema: SCHEMA },
      guarded: {
        module: 'log',
        ip_whitelist: ['127.0.0.0/8', '::1'],
        authorization: TOKEN,
        signature: { scheme: 'github', secret: ['old-rotated-secret', SECRET] },
        json_schema: SCHEMA,
        rate_limit: { max_requests: 1_000_000_000, window_seconds: 60 },
      },
      patterned: { module: 'log', json_schema: PATTERN_SCHEMA },
    });
    const headers = { 'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(PAYLOAD).digest('hex')}`, Authorization: TOKEN };
    const checks = await withServers([() => startCwmServer(ctx, 'security', { CONFIG_BACKEND: 'file', CONFIG_DIR: dir })], async ([cwm]) => {
      const server = cwm as ServerProcess;
      const [plain, signed, guarded, plainLong, patterned] = await compare(ctx, [
        { label: 'plain log webhook', server, paths: ['/webhook/plain'] },
        { label: 'github signature + json_schema', server, paths: ['/webhook/signed'], headers },
        { label: 'every check', server, paths: ['/webhook/guarded'], headers },
        { label: 'plain log webhook, pattern body', server, paths: ['/webhook/plain'], body: PATTERN_BODY },
        { label: 'pattern-heavy json_schema (RE2)', server, paths: ['/webhook/patterned'], body: PATTERN_BODY },
      ]);
      if (!plain || !signed || !guarded || !plainLong || !patterned) throw new Error('compare returned fewer results than targets');
      return [
        ...loadFigures(plain),
        ...loadFigures(signed),
        ...loadFigures(guarded),
        ...ratioFigures(signed, plain, { throughput: { op: '>=', target: 0.8 } }),
        ...ratioFigures(guarded, plain),
        ...loadFigures(plainLong),
        ...loadFigures(patterned),
        ...ratioFigures(patterned, plainLong),
      ];
    });
    return [...checks, ...(await floodFigures(ctx))];
  },
};
