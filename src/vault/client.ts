/**
 * HashiCorp Vault's HTTP API, the two calls cwm needs: read a KV v2 secret
 * (GET /v1/<mount>/data/<path>, X-Vault-Token) and, for AppRole, log in
 * (POST /v1/auth/approle/login) for a client token. An AppRole token is
 * replaced by a fresh login shortly before its lease ends, and once more when
 * Vault answers 403 (revoked early). Errors name the address and the path,
 * never a token or a value.
 */
import { UnavailableError } from '../errors.js';
import type { VaultSettings } from '../settings.js';

/** Vault could not be asked (unreachable, timed out, 5xx, refused our credentials): worth retrying. */
export class VaultUnavailableError extends UnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VaultUnavailableError';
  }
}

/** A secret's fields, or undefined when Vault says the path holds no secret (404, or its newest version deleted). */
export type SecretData = Readonly<Record<string, unknown>> | undefined;

/** A login is redone this long before its lease ends, so a read never goes out with a token about to lapse. */
const RENEW_MARGIN_MS = 1000;

interface Token {
  readonly value: string;
  /** Infinity for a token without a lease (VAULT_TOKEN, or lease_duration 0). */
  readonly expiresAt: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if ((err as Error).name === 'TimeoutError') return 'timed out';
  return (err as Error).name || 'request failed';
}

export class VaultClient {
  private token: Token | undefined;
  private login: Promise<Token> | undefined;
  /** AppRole logins so far (tests and the renewal log line read it). */
  logins = 0;

  constructor(private readonly settings: VaultSettings, private readonly now: () => number = Date.now) {
    if (settings.token !== undefined) this.token = { value: settings.token, expiresAt: Number.POSITIVE_INFINITY };
  }

  /** Where errors say Vault is: the configured address (it holds no credentials: settings refuse them). */
  get address(): string {
    return this.settings.address;
  }

  private headers(token?: string): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) h['x-vault-token'] = token;
    if (this.settings.namespace !== undefined) h['x-vault-namespace'] = this.settings.namespace;
    return h;
  }

  private async request(what: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.settings.timeoutMs) });
    } catch (err) {
      throw new VaultUnavailableError(`Vault at ${this.address} unreachable (${describeFailure(err)}) ${what}`);
    }
  }

  private usesAppRole(): boolean {
    return this.settings.token === undefined;
  }

  private async validToken(): Promise<string> {
    if (this.token && this.now() < this.token.expiresAt - RENEW_MARGIN_MS) return this.token.value;
    // Concurrent reads share one login.
    this.login ??= this.appRoleLogin().finally(() => (this.login = undefined));
    this.token = await this.login;
    return this.token.value;
  }

  private async appRoleLogin(): Promise<Token> {
    const startedAt = this.now();
    const res = await this.request('logging in with AppRole', `${this.address}/v1/auth/approle/login`, {
      method: 'POST',
      headers: { ...this.headers(), 'content-type': 'application/json' },
      body: JSON.stringify({ role_id: this.settings.roleId, secret_id: this.settings.secretId }),
    });
    const body = (await res.json().catch(() => undefined)) as unknown;
    const auth = isObject(body) && isObject(body.auth) ? body.auth : undefined;
    const clientToken = auth?.client_token;
    if (res.status !== 200 || typeof clientToken !== 'string' || clientToken === '') {
      throw new VaultUnavailableError(`Vault at ${this.address} refused the AppRole login (HTTP ${res.status}): check VAULT_ROLE_ID / VAULT_SECRET_ID`);
    }
    this.logins++;
    const lease = typeof auth?.lease_duration === 'number' && auth.lease_duration > 0 ? auth.lease_duration * 1000 : Number.POSITIVE_INFINITY;
    return { value: clientToken, expiresAt: startedAt + lease };
  }

  /** The fields of the KV v2 secret at `path` (already checked against the reference rule). */
  async read(path: string): Promise<SecretData> {
    const url = `${this.address}/v1/${this.settings.mount}/data/${path.split('/').map(encodeURIComponent).join('/')}`;
    const what = `reading secret ${JSON.stringify(path)}`;
    let res = await this.request(what, url, { headers: this.headers(await this.validToken()) });
    if (res.status === 403 && this.usesAppRole()) {
      // Revoked or expired before its lease said: one fresh login, then the answer stands.
      await res.body?.cancel();
      this.token = undefined;
      res = await this.request(what, url, { headers: this.headers(await this.validToken()) });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      const hint = res.status === 403 ? ': the token may not read this path (policy), or it expired' : '';
      throw new VaultUnavailableError(`Vault at ${this.address} answered HTTP ${res.status} ${what}${hint}`);
    }
    const body = (await res.json().catch(() => undefined)) as unknown;
    const data = isObject(body) && isObject(body.data) ? body.data.data : undefined;
    if (data === null) return undefined; // the newest version is deleted
    if (!isObject(data)) throw new VaultUnavailableError(`Vault at ${this.address} answered ${what} without a KV v2 "data.data" object: is ${this.settings.mount} a KV v2 mount (VAULT_MOUNT_POINT)?`);
    return data;
  }
}
