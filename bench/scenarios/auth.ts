/**
 * What token auth costs: a jwt-protected (HS256) and a digest_auth-protected
 * (SHA-256) log webhook, each against the plain log webhook of the same cwm
 * process under the same load, interleaved rounds. Every request carries the
 * same valid credentials (a digest nonce is valid for its lifetime, nc is not
 * tracked), so the figure is the verification cost. Goal: ≥ 0.7× plain.
 */
import { createHash, createHmac } from 'node:crypto';
import { compare, CONNECTIONS, loadFigures, ratioFigures } from '../lib/compare.js';
import { PAYLOAD } from '../lib/payload.js';
import { startCwmServer, withServers, type ServerProcess } from '../lib/processes.js';
import type { BenchContext, Scenario } from '../lib/scenario.js';
import { configDir } from './http.js';

const JWT_SECRET = 'bench-jwt-secret';
const USER = 'bench';
const PASSWORD = 'bench-digest-password';
const REALM = 'Webhook API';

function hs256(claims: Record<string, unknown>): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signing = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${signing}.${createHmac('sha256', JWT_SECRET).update(signing).digest('base64url')}`;
}

async function digestHeader(baseUrl: string, path: string): Promise<string> {
  const challenge = (await fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).headers.get('www-authenticate') ?? '';
  const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1];
  if (nonce === undefined) throw new Error(`no digest challenge: ${challenge}`);
  const h = (s: string): string => createHash('sha256').update(s).digest('hex');
  const response = h(`${h(`${USER}:${REALM}:${PASSWORD}`)}:${nonce}:00000001:bench:auth:${h(`POST:${path}`)}`);
  return `Digest username="${USER}", realm="${REALM}", nonce="${nonce}", uri="${path}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="bench", response="${response}"`;
}

export const authScenario: Scenario = {
  name: 'auth',
  description: `log webhook with jwt (HS256) and with digest_auth (SHA-256) vs the plain log webhook of the same process; ${CONNECTIONS} connections, ${Buffer.byteLength(PAYLOAD)}-byte JSON body, interleaved rounds, medians`,
  async run(ctx: BenchContext) {
    const dir = configDir(ctx, 'auth', {
      plain: { module: 'log' },
      jwt: { module: 'log', jwt: { secret: JWT_SECRET, issuer: 'bench', audience: 'cwm' } },
      digest: { module: 'log', digest_auth: { username: USER, password: PASSWORD, algorithm: 'SHA-256', nonce_lifetime_seconds: 86400 } },
    });
    return withServers([() => startCwmServer(ctx, 'auth', { CONFIG_BACKEND: 'file', CONFIG_DIR: dir })], async ([cwm]) => {
      const server = cwm as ServerProcess;
      const token = hs256({ iss: 'bench', aud: 'cwm', exp: Math.floor(Date.now() / 1000) + 86400 });
      const [plain, jwt, digest] = await compare(ctx, [
        { label: 'plain log webhook', server, paths: ['/webhook/plain'] },
        { label: 'jwt HS256', server, paths: ['/webhook/jwt'], headers: { Authorization: `Bearer ${token}` } },
        { label: 'digest_auth SHA-256', server, paths: ['/webhook/digest'], headers: { Authorization: await digestHeader(server.baseUrl, '/webhook/digest') } },
      ]);
      if (!plain || !jwt || !digest) throw new Error('compare returned fewer results than targets');
      return [
        ...loadFigures(plain),
        ...loadFigures(jwt),
        ...loadFigures(digest),
        ...ratioFigures(jwt, plain, { throughput: { op: '>=', target: 0.7 } }),
        ...ratioFigures(digest, plain, { throughput: { op: '>=', target: 0.7 } }),
      ];
    });
  },
};
