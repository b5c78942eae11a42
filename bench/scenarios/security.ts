/**
 * What request security costs: a log webhook with a github signature and a
 * json_schema, and one with every check (ip_whitelist, authorization, two
 * rotated github secrets, json_schema, in-process rate_limit), each against
 * the plain log webhook of the same cwm process under the same wrk load,
 * interleaved rounds. Goal: github + schema keeps ≥ 0.8× the plain throughput.
 */
import { createHmac } from 'node:crypto';
import { compare, CONNECTIONS, loadFigures, ratioFigures } from '../lib/compare.js';
import { PAYLOAD } from '../lib/payload.js';
import { startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { BenchContext, Scenario } from '../lib/scenario.js';
import { configDir } from './http.js';

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
  description: `log webhook with github signature + json_schema, and with every check, vs the plain log webhook of the same process; wrk, ${CONNECTIONS} connections, ${Buffer.byteLength(PAYLOAD)}-byte JSON body, interleaved rounds, medians`,
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
    });
    const headers = { 'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(PAYLOAD).digest('hex')}`, Authorization: TOKEN };
    return withServers([() => startCwmServer(ctx, 'security', { CONFIG_BACKEND: 'file', CONFIG_DIR: dir })], async ([cwm]) => {
      const server = cwm as ServerProcess;
      const [plain, signed, guarded] = await compare(ctx, [
        { label: 'plain log webhook', server, paths: ['/webhook/plain'] },
        { label: 'github signature + json_schema', server, paths: ['/webhook/signed'], headers },
        { label: 'every check', server, paths: ['/webhook/guarded'], headers },
      ]);
      if (!plain || !signed || !guarded) throw new Error('compare returned fewer results than targets');
      return [
        ...loadFigures(plain),
        ...loadFigures(signed),
        ...loadFigures(guarded),
        ...ratioFigures(signed, plain, { throughput: { op: '>=', target: 0.8 } }),
        ...ratioFigures(guarded, plain),
      ];
    });
  },
};
