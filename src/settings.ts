/**
 * Every environment variable cwm reads, parsed once into typed settings with
 * defaults in this one place. Modules receive `Settings`; none reads
 * `process.env` on its own (except `{$NAME}` substitution, which is the point).
 */

import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { EXAMPLE_CONFIG_DIR } from './paths.js';

export type ConfigBackend = 'file' | 'etcd';

export interface EtcdSettings {
  endpoints: string[];
  prefix: string;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** First reconnect delay; each further attempt doubles it up to `backoffMaxMs`, with full jitter. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Page size of the startup range read: keeps every gRPC message far below the 4 MiB default. */
  pageSize: number;
}

/** HashiCorp Vault (KV v2) for `{$vault:path#field}` references; the token and secret id are never logged. */
export interface VaultSettings {
  /** Origin (and optional path prefix) of the Vault HTTP API, e.g. http://vault:8200. */
  address: string;
  token?: string;
  /** AppRole credentials, used when no token is given. */
  roleId?: string;
  secretId?: string;
  /** Mount of the KV v2 engine (`secret`). */
  mount: string;
  /** Enterprise namespace (X-Vault-Namespace). */
  namespace?: string;
  /** How long a secret read is reused; 0 reads Vault for every config that references it. */
  cacheTtlMs: number;
  /** Secret paths kept at most; the one expiring first is dropped when full. */
  cacheMaxSize: number;
  /** Longest wait for one Vault request. */
  timeoutMs: number;
}

/** A file of the file backend and the setting that named it, so an error names what the operator wrote. */
export interface ConfigFile {
  readonly path: string;
  /** Undefined: cwm's own default (the bundled example folder). */
  readonly setting?: 'CONFIG_DIR' | 'WEBHOOKS_CONFIG_FILE' | 'CONNECTIONS_CONFIG_FILE';
  /** A missing file refuses to start (named explicitly, or webhooks.json); otherwise missing means empty. */
  readonly required: boolean;
}

export interface ConfigFiles {
  readonly webhooks: ConfigFile;
  readonly connections: ConfigFile;
}

export interface Settings {
  port: number;
  /**
   * A second port serving only the admin routes (/health, /ready, /metrics); 0 = none. Probes there
   * have their own accept queue: node accepts one connection per turn of the event loop, so on the
   * shared port a probe waits behind every connection that arrived before it (see docs/security.md).
   */
  probePort: number;
  host: string;
  configBackend: ConfigBackend;
  /** What the file backend and `cwm import` read: CONFIG_DIR's two files unless WEBHOOKS_CONFIG_FILE / CONNECTIONS_CONFIG_FILE name others. */
  configFiles: ConfigFiles;
  defaultNamespace: string;
  etcd: EtcdSettings;
  logLevel: string;
  outputTimeoutMs: number;
  maxBodyBytes: number;
  maxJsonDepth: number;
  trustedProxies: string[];
  /** Which variable trustedProxies came from, so an error names what the operator wrote. */
  trustedProxiesVar: 'TRUSTED_PROXIES' | 'TRUSTED_PROXY_IPS';
  configEnvAllowlist: RegExp;
  shutdownTimeoutMs: number;
  metricsPerWebhook: boolean;
  accessLog: boolean;
  /** Outbound targets a team configures (http_webhook, websocket) may be loopback/unspecified addresses. */
  allowLocalhostForTests: boolean;
  /** ... may be private addresses (RFC 1918, unique-local, CGNAT, documentation ranges). Link-local and metadata never. */
  allowPrivateIpConnections: boolean;
  /** Absolute root under which save_to_disk writes (one subdirectory per namespace); unset = save_to_disk refused. */
  saveToDiskBaseDir?: string;
  /** Open connections at most; default derived from the open-file limit (see defaultMaxConnections). */
  maxConnections: number;
  /** Unanswered requests per connection before reading from it stops. */
  maxPipelinedRequests: number;
  /** Answer bytes a client may leave unread on one connection before it is closed. */
  maxQueuedResponseBytes: number;
  /** How often header/request timeouts are checked (node's default is 30 s). */
  connectionsCheckIntervalMs: number;
  headersTimeoutMs: number;
  /** Repeated warnings (delivery failures, refused connections) are summarised once per interval. */
  logSummaryIntervalMs: number;
  /** Redis connection (by name) of the durable spool for webhooks with `retry.enabled`. */
  spoolConnection?: string;
  /** DEFAULT_CONNECTIONS: connection type → connection name, for outputs whose config names none (CWM's configs often do not). */
  defaultConnections: ReadonlyMap<string, string>;
  /** Spooled deliveries one instance attempts at once. */
  spoolConcurrency: number;
  /** Spooled attempts of one webhook one instance runs at once: a hung destination holds no more worker slots. */
  spoolWebhookConcurrency: number;
  /** BullMQ lock of an attempt; a crashed instance's attempts are taken over within about this long. */
  spoolLockMs: number;
  /**
   * CWM's catch-all: a request to an unknown webhook id is handled by the
   * webhook `default` of the same namespace. Off: unknown ids are 404 (see README on why).
   */
  defaultWebhookFallback: boolean;
  /** Bearer token of the /admin/deliveries API; unset: the API is off (404). */
  deliveriesAdminToken?: string;
  /** CWM's STATS_AUTH_TOKEN: token of GET /stats; unset: the route is off (404). */
  statsAuthToken?: string;
  /** CWM's DISABLE_OPENAPI_DOCS: true turns GET /openapi.json and GET /docs off (404). */
  disableOpenApiDocs: boolean;
  /** Google's siteverify endpoint; a test points it at a local stand-in speaking the same API. */
  recaptchaVerifyUrl: string;
  /** Unset: no Vault, and a config with a `{$vault:…}` reference is refused. */
  vault?: VaultSettings;
}

/** The soft RLIMIT_NOFILE, read from /proc (Linux); undefined elsewhere. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/**
 * Connections stay below the open-file limit with room for what else holds a
 * descriptor (etcd, Redis, Kafka, log, config files): a tenth of the limit,
 * at least 64, kept free; between 16 and 65 536. Unknown limit: 1024's answer.
 */
export function defaultMaxConnections(nofile: number | undefined): number {
  const limit = nofile ?? 1024;
  if (!Number.isFinite(limit)) return 65_536;
  return Math.max(16, Math.min(65_536, limit - Math.max(64, Math.floor(limit / 10))));
}

export class SettingsError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

function intVar(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new SettingsError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw.trim());
  if (value < min) throw new SettingsError(`${name} must be at least ${min}, got ${value}`);
  return value;
}

function listVar(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * TRUSTED_PROXY_IPS is CWM's name for TRUSTED_PROXIES. Both set to different
 * lists is ambiguous about whom to trust, so it refuses to start.
 */
function trustedProxiesSetting(env: Env): Pick<Settings, 'trustedProxies' | 'trustedProxiesVar'> {
  const ours = listVar(env, 'TRUSTED_PROXIES');
  const cwms = listVar(env, 'TRUSTED_PROXY_IPS');
  if (ours.length > 0 && cwms.length > 0 && ours.join(',') !== cwms.join(',')) {
    throw new SettingsError('TRUSTED_PROXIES and TRUSTED_PROXY_IPS (its CWM alias) are both set, to different lists: set one');
  }
  return ours.length > 0 || cwms.length === 0 ? { trustedProxies: ours, trustedProxiesVar: 'TRUSTED_PROXIES' } : { trustedProxies: cwms, trustedProxiesVar: 'TRUSTED_PROXY_IPS' };
}

const NO_DEFAULT_CONNECTIONS: ReadonlyMap<string, string> = new Map();

/**
 * DEFAULT_CONNECTIONS, `redis=cache,postgresql=pg_main`: the connection an
 * output uses when its config names none. CWM fell back to built-in defaults
 * there (localhost, or a failure on every request); cwm sends only through
 * connections the operator configured, so the operator names them.
 */
export function parseDefaultConnections(raw: string | undefined): ReadonlyMap<string, string> {
  if (raw === undefined || raw.trim() === '') return NO_DEFAULT_CONNECTIONS;
  const out = new Map<string, string>();
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^([a-z0-9_-]{1,32})=([A-Za-z0-9_-]{1,64})$/.exec(item);
    if (!m) throw new SettingsError(`DEFAULT_CONNECTIONS: ${JSON.stringify(item)} is not <connection type>=<connection name>`);
    const [, type, name] = m as unknown as [string, string, string];
    if (out.has(type) && out.get(type) !== name) throw new SettingsError(`DEFAULT_CONNECTIONS names two connections for type ${type}`);
    out.set(type, name);
  }
  return out;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function etcdEndpoints(env: Env): string[] {
  const listed = listVar(env, 'ETCD_ENDPOINTS');
  const withScheme = (h: string): string => (/^[a-z]+:\/\//i.test(h) ? h : `http://${h}`);
  if (listed.length > 0) return listed.map(withScheme);
  const host = env.ETCD_HOST || '127.0.0.1';
  const port = intVar(env, 'ETCD_PORT', 2379, 1);
  return [withScheme(`${host}:${port}`)];
}

function boolVar(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new SettingsError(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function logLevelVar(env: Env): string {
  const raw = (env.LOG_LEVEL || 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new SettingsError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  return raw;
}

function regexVar(env: Env, name: string, fallback: string): RegExp {
  const source = env[name] ?? fallback;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new SettingsError(`${name} is not a valid regular expression: ${(err as Error).message}`);
  }
}

function absoluteDir(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  if (!isAbsolute(raw) || raw.includes('\u0000')) throw new SettingsError(`${name} must be an absolute path, got ${JSON.stringify(raw)}`);
  return resolve(raw);
}

/** CONFIG_DIR's two files; connections.json there is optional. */
export function configFilesIn(dir: string, setting?: ConfigFile['setting']): ConfigFiles {
  return {
    webhooks: { path: join(dir, 'webhooks.json'), setting, required: true },
    connections: { path: join(dir, 'connections.json'), setting, required: false },
  };
}

/**
 * CWM's WEBHOOKS_CONFIG_FILE / CONNECTIONS_CONFIG_FILE override CONFIG_DIR's
 * files one by one (relative paths are taken from the working directory, as
 * CWM does). With only WEBHOOKS_CONFIG_FILE, connections.json is looked for
 * next to it (optional), never in the bundled example folder: a CWM user must
 * not be served the example's open `demo` webhook or its connections.
 */
function configFilesSetting(env: Env): ConfigFiles {
  const dirVar = optional(env, 'CONFIG_DIR');
  const webhooksVar = optional(env, 'WEBHOOKS_CONFIG_FILE');
  const connectionsVar = optional(env, 'CONNECTIONS_CONFIG_FILE');
  // The folder of connections.json when CONNECTIONS_CONFIG_FILE is unset, and the variable that chose it.
  const folder = dirVar !== undefined ? configFilesIn(resolve(dirVar), 'CONFIG_DIR') : webhooksVar !== undefined ? configFilesIn(dirname(resolve(webhooksVar)), 'WEBHOOKS_CONFIG_FILE') : configFilesIn(EXAMPLE_CONFIG_DIR);
  return {
    webhooks: webhooksVar !== undefined ? { path: resolve(webhooksVar), setting: 'WEBHOOKS_CONFIG_FILE', required: true } : folder.webhooks,
    connections: connectionsVar !== undefined ? { path: resolve(connectionsVar), setting: 'CONNECTIONS_CONFIG_FILE', required: true } : folder.connections,
  };
}

export function loadSettings(env: Env = process.env): Settings {
  const backend = (env.CONFIG_BACKEND || 'file').toLowerCase();
  if (backend !== 'file' && backend !== 'etcd') {
    throw new SettingsError(`CONFIG_BACKEND must be "file" or "etcd", got ${JSON.stringify(env.CONFIG_BACKEND)}`);
  }
  let prefix = env.ETCD_PREFIX || '/cwm/';
  if (!prefix.endsWith('/')) prefix += '/';
  const defaultNamespace = env.ETCD_NAMESPACE || 'default';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(defaultNamespace)) {
    throw new SettingsError(`ETCD_NAMESPACE must match ^[A-Za-z0-9_-]{1,64}$, got ${JSON.stringify(defaultNamespace)}`);
  }
  return {
    port: intVar(env, 'PORT', 8000),
    probePort: intVar(env, 'PROBE_PORT', 0),
    host: env.HOST || '0.0.0.0',
    configBackend: backend,
    configFiles: configFilesSetting(env),
    defaultNamespace,
    etcd: {
      endpoints: etcdEndpoints(env),
      prefix,
      username: optional(env, 'ETCD_USERNAME'),
      password: optional(env, 'ETCD_PASSWORD'),
      caFile: optional(env, 'ETCD_CA_FILE'),
      certFile: optional(env, 'ETCD_CERT_FILE'),
      keyFile: optional(env, 'ETCD_KEY_FILE'),
      backoffInitialMs: intVar(env, 'ETCD_BACKOFF_INITIAL_MS', 50, 1),
      backoffMaxMs: intVar(env, 'ETCD_BACKOFF_MAX_MS', 5000, 1),
      pageSize: intVar(env, 'ETCD_PAGE_SIZE', 5000, 1),
    },
    logLevel: logLevelVar(env),
    outputTimeoutMs: intVar(env, 'OUTPUT_TIMEOUT_MS', 5000, 1),
    maxBodyBytes: intVar(env, 'MAX_BODY_BYTES', 1024 * 1024, 1),
    maxJsonDepth: intVar(env, 'MAX_JSON_DEPTH', 64, 1),
    ...trustedProxiesSetting(env),
    configEnvAllowlist: regexVar(env, 'CONFIG_ENV_ALLOWLIST', '^CWM_'),
    shutdownTimeoutMs: intVar(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0),
    metricsPerWebhook: boolVar(env, 'METRICS_PER_WEBHOOK'),
    accessLog: boolVar(env, 'ACCESS_LOG'),
    allowLocalhostForTests: boolVar(env, 'ALLOW_LOCALHOST_FOR_TESTS'),
    allowPrivateIpConnections: boolVar(env, 'ALLOW_PRIVATE_IP_CONNECTIONS'),
    saveToDiskBaseDir: absoluteDir(env, 'SAVE_TO_DISK_BASE_DIR'),
    maxConnections: intVar(env, 'MAX_CONNECTIONS', defaultMaxConnections(openFileLimit()), 1),
    maxPipelinedRequests: intVar(env, 'MAX_PIPELINED_REQUESTS', 16, 1),
    maxQueuedResponseBytes: intVar(env, 'MAX_QUEUED_RESPONSE_BYTES', 1024 * 1024, 1024),
    connectionsCheckIntervalMs: intVar(env, 'CONNECTIONS_CHECK_INTERVAL_MS', 1000, 100),
    headersTimeoutMs: intVar(env, 'HEADERS_TIMEOUT_MS', 15_000, 1000),
    logSummaryIntervalMs: intVar(env, 'LOG_SUMMARY_INTERVAL_MS', 10_000, 100),
    spoolConnection: optional(env, 'SPOOL_CONNECTION'),
    defaultConnections: parseDefaultConnections(env.DEFAULT_CONNECTIONS),
    spoolConcurrency: intVar(env, 'SPOOL_CONCURRENCY', 16, 1),
    spoolWebhookConcurrency: intVar(env, 'SPOOL_WEBHOOK_CONCURRENCY', 4, 1),
    spoolLockMs: intVar(env, 'SPOOL_LOCK_MS', 30000, 1000),
    defaultWebhookFallback: boolVar(env, 'DEFAULT_WEBHOOK_FALLBACK'),
    deliveriesAdminToken: optional(env, 'DELIVERIES_ADMIN_TOKEN'),
    statsAuthToken: optional(env, 'STATS_AUTH_TOKEN')?.trim() || undefined,
    disableOpenApiDocs: boolVar(env, 'DISABLE_OPENAPI_DOCS'),
    recaptchaVerifyUrl: recaptchaVerifyUrl(env),
    vault: vaultSettings(env),
  };
}

/**
 * CWM's Vault variables. VAULT_ADDR turns Vault on; CWM also wanted
 * SECRETS_BACKEND=vault or VAULT_ENABLED=true, which are accepted, and refuse
 * to start without an address instead of leaving every reference unresolved.
 */
export function vaultSettings(env: Env = process.env): VaultSettings | undefined {
  const address = optional(env, 'VAULT_ADDR');
  const requested = (env.SECRETS_BACKEND ?? '').trim().toLowerCase() === 'vault' || boolVar(env, 'VAULT_ENABLED');
  if (address === undefined) {
    if (requested) throw new SettingsError('SECRETS_BACKEND=vault / VAULT_ENABLED=true needs VAULT_ADDR');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new SettingsError('VAULT_ADDR must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SettingsError('VAULT_ADDR must be an http(s) URL');
  // The address is logged with Vault errors; credentials in it would be too.
  if (url.username !== '' || url.password !== '') throw new SettingsError('VAULT_ADDR must not hold credentials: use VAULT_TOKEN or VAULT_ROLE_ID/VAULT_SECRET_ID');
  const kv = optional(env, 'VAULT_KV_VERSION');
  if (kv !== undefined && kv.trim() !== '2') throw new SettingsError(`VAULT_KV_VERSION: only KV version 2 is supported, got ${JSON.stringify(kv)}`);
  const token = optional(env, 'VAULT_TOKEN');
  const roleId = optional(env, 'VAULT_ROLE_ID');
  const secretId = optional(env, 'VAULT_SECRET_ID');
  if (token === undefined && (roleId === undefined || secretId === undefined)) {
    throw new SettingsError('VAULT_ADDR is set but no Vault credentials are: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID');
  }
  const mount = (env.VAULT_MOUNT_POINT ?? 'secret').trim().replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(mount) || mount.split('/').includes('..')) throw new SettingsError(`VAULT_MOUNT_POINT must be a mount path such as "secret", got ${JSON.stringify(env.VAULT_MOUNT_POINT)}`);
  return {
    address: url.href.replace(/\/+$/, ''),
    token,
    roleId,
    secretId,
    mount,
    namespace: optional(env, 'VAULT_NAMESPACE'),
    cacheTtlMs: intVar(env, 'VAULT_CACHE_TTL_SECONDS', 300) * 1000,
    cacheMaxSize: intVar(env, 'VAULT_CACHE_MAX_SIZE', 1000, 1),
    timeoutMs: intVar(env, 'VAULT_TIMEOUT_SECONDS', 10, 1) * 1000,
  };
}

export const GOOGLE_SITEVERIFY = 'https://www.google.com/recaptcha/api/siteverify';

/** RECAPTCHA_VERIFY_URL, read here like every variable; the recaptcha check asks for it when it compiles. */
export function recaptchaVerifyUrl(env: Env = process.env): string {
  const url = env.RECAPTCHA_VERIFY_URL || GOOGLE_SITEVERIFY;
  if (!/^https?:\/\//i.test(url)) throw new SettingsError(`RECAPTCHA_VERIFY_URL must be an http(s) URL, got ${JSON.stringify(url)}`);
  return url;
}
