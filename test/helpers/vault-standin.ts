/**
 * A local stand-in for HashiCorp Vault (no Vault server is installable on
 * the test machines): a real HTTP server speaking the part of Vault's
 * documented API cwm uses, with Vault's paths, headers and answer shapes:
 *
 * - GET /v1/<mount>/data/<path> with X-Vault-Token (KV v2 read): 200
 *   {"data":{"data":{...},"metadata":{...}}}, 404 {"errors":[]} for no
 *   secret, 403 {"errors":["permission denied"]} for a missing, unknown or
 *   expired token;
 * - POST /v1/auth/approle/login {"role_id","secret_id"}: 200
 *   {"auth":{"client_token","lease_duration","renewable",...}}, 400
 *   {"errors":["invalid role or secret ID"]} otherwise.
 *
 * It counts every request so tests can see caching and logins, and can be
 * stopped and started again on the same port (Vault down, Vault back).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VaultStandIn {
  readonly port: number;
  readonly address: string;
  readonly rootToken: string;
  readonly roleId: string;
  readonly secretId: string;
  /** KV v2 reads per secret path (answered 200 or 404). */
  readonly reads: Map<string, number>;
  /** Successful AppRole logins. */
  logins: number;
  /** Reads refused for a bad or expired token. */
  denied: number;
  /** Lease of tokens an AppRole login issues, in seconds (0: no expiry). */
  approleLeaseSeconds: number;
  put(path: string, data: Record<string, unknown>): void;
  /** Holds every KV read until the returned function is called (an answer that arrives late, deterministically). */
  holdReads(): () => void;
  /** Revokes every token AppRole logins issued (the root token stays). */
  revokeLogins(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startVaultStandIn(opts: { mount?: string; port?: number } = {}): Promise<VaultStandIn> {
  const mount = opts.mount ?? 'secret';
  const secrets = new Map<string, Record<string, unknown>>();
  const tokens = new Map<string, number>(); // token → expiry (ms epoch)
  const rootToken = `hvs.root-${randomBytes(6).toString('hex')}`;
  tokens.set(rootToken, Number.POSITIVE_INFINITY);
  let server: Server | undefined;
  let port = opts.port ?? 0;
  let gate: Promise<void> = Promise.resolve();
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const vault: VaultStandIn = {
    get port() {
      return port;
    },
    get address() {
      return `http://127.0.0.1:${port}`;
    },
    rootToken,
    roleId: `role-${randomBytes(4).toString('hex')}`,
    secretId: `sid-${randomBytes(8).toString('hex')}`,
    reads: new Map(),
    logins: 0,
    denied: 0,
    approleLeaseSeconds: 3600,
    put(path, data) {
      secrets.set(path, data);
    },
    holdReads() {
      let release: () => void = () => undefined;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => release();
    },
    revokeLogins() {
      for (const t of [...tokens.keys()]) if (t !== rootToken) tokens.delete(t);
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start() {
      return new Promise((resolve, reject) => {
        const s = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            const url = new URL(req.url ?? '/', 'http://x');
            if (req.method === 'POST' && url.pathname === '/v1/auth/approle/login') {
              let body: { role_id?: unknown; secret_id?: unknown } = {};
              try {
                body = JSON.parse(Buffer.concat(chunks).toString()) as typeof body;
              } catch {
                /* answered 400 below */
              }
              if (body.role_id !== vault.roleId || body.secret_id !== vault.secretId) return json(res, 400, { errors: ['invalid role or secret ID'] });
              vault.logins++;
              const token = `hvs.${randomBytes(12).toString('hex')}`;
              tokens.set(token, vault.approleLeaseSeconds > 0 ? Date.now() + vault.approleLeaseSeconds * 1000 : Number.POSITIVE_INFINITY);
              return json(res, 200, { request_id: randomBytes(8).toString('hex'), auth: { client_token: token, accessor: randomBytes(8).toString('hex'), policies: ['default', 'cwm'], lease_duration: vault.approleLeaseSeconds, renewable: true } });
            }
            const prefix = `/v1/${mount}/data/`;
            if (req.method === 'GET' && url.pathname.startsWith(prefix)) {
              const token = req.headers['x-vault-token'];
              const expiry = typeof token === 'string' ? tokens.get(token) : undefined;
              if (expiry === undefined || expiry <= Date.now()) {
                vault.denied++;
                return json(res, 403, { errors: ['permission denied'] });
              }
              const path = decodeURIComponent(url.pathname.slice(prefix.length));
              vault.reads.set(path, (vault.reads.get(path) ?? 0) + 1);
              const data = secrets.get(path);
              void gate.then(() => {
                if (!data) return json(res, 404, { errors: [] });
                json(res, 200, { request_id: randomBytes(8).toString('hex'), lease_id: '', renewable: false, lease_duration: 0, data: { data, metadata: { created_time: new Date().toISOString(), deletion_time: '', destroyed: false, version: 1 } } });
              });
              return;
            }
            json(res, 404, { errors: [] });
          });
        });
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => {
          port = (s.address() as AddressInfo).port;
          server = s;
          resolve();
        });
      });
    },
  };
  await vault.start();
  return vault;
}
