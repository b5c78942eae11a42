/**
 * What a config the receiver accepts does differently from CWM with the same
 * config: the "accepted-with-changes" of `cwm validate --many`. Each line is
 * a JSON pointer into the config as written and what changes there; lines
 * name fields and modules, never values (a value may be a secret). The README
 * migration section describes each difference at length; keep the two in step.
 */
import { findOutput } from '../outputs/registry.js';
import type { EntryKind } from './validation.js';

export interface Difference {
  readonly pointer: string;
  readonly note: string;
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const OUTPUT_FAILS = 'a failed or timed-out delivery answers 503 with Retry-After (CWM answered 200 and the message was lost)';

const POSTGRESQL = '2xx only after the INSERT committed (CWM wrote in the background); the table is created at the first delivery after a config change, and a failed CREATE answers 503';
const MYSQL = '2xx only after the INSERT committed (CWM wrote in the background); the table is created at the first delivery after a config change (CWM\'s pooled path skipped it), and a failed CREATE answers 503';

/** Per output module, as CWM would have run it. */
const MODULE_NOTES: Readonly<Record<string, string>> = {
  postgresql: POSTGRESQL,
  postgres: POSTGRESQL,
  mysql: MYSQL,
  mariadb: MYSQL,
  kafka: '2xx only after the broker acknowledged the send; module-config bootstrap_servers is not used (as in CWM: the connection names the brokers)',
  redis_queue: 'jobs are BullMQ jobs (CWM had no redis_queue; CWM\'s redis_rq is refused, not aliased)',
  s3: '{uuid} in the object key is the delivery id (a retry overwrites its object); blob bodies are stored as received; endpoint_url is honoured; metadata gains cwm_delivery_id',
  clickhouse: 'the id column is the delivery id; a failed INSERT answers 503',
  activemq: 'SENDs are persistent; request headers are not forwarded as STOMP headers',
  zeromq: 'works (CWM answered 500 on every request); the endpoint is bound on the first delivery',
  http_webhook: 'works (CWM answered 500 on every request); sends the body bytes as received, never follows redirects, refuses credentials in the URL; timeout is capped by OUTPUT_TIMEOUT_MS',
  save_to_disk: 'writes under SAVE_TO_DISK_BASE_DIR/<namespace> (CWM: relative to its working directory); the file holds the body bytes as received (CWM: Python str() of the payload)',
  websocket: 'works (CWM answered 500 on every request); one connection per webhook, reconnects follow cwm\'s backoff whatever max_retries says, sends fail fast (503) while disconnected',
  rabbitmq: '2xx only after the publisher confirm; the body is sent as received (CWM: json.dumps of it); a message no queue takes fails',
  mqtt: '2xx only after PUBACK (QoS 1) or PUBCOMP (QoS 2); the client id gets a random suffix unless unique_client_id is false',
};

/** Per request check, present in the config. */
const CHECK_NOTES: Readonly<Record<string, string>> = {
  ip_whitelist: 'a client IP outside the list gets 403 (CWM: 401)',
  json_schema: 'a payload that fails it gets 422 listing JSON pointers (CWM: 401)',
  oauth2: 'introspection answers are cached (cache_seconds); an endpoint that fails answers 503 (CWM: 401); a secret is used only for HS*, a PEM key only for asymmetric algorithms',
  recaptcha: 'remoteip is the connection\'s address (or a trusted proxy\'s X-Forwarded-For); Google not answering gives 503 (CWM: 401)',
  digest_auth: 'a real challenge is sent and only cwm\'s own unexpired nonces pass, hashed with the configured algorithm (CWM accepted any nonce and always used MD5)',
  oauth1: 'the signature base string is RFC 5849\'s (full URL with the query; CWM signed the path only); a missing oauth_timestamp is refused while verify_timestamp is on',
  jwt: 'nbf is checked strictly',
};

function outputEntries(config: Obj): { pointer: string; entry: Obj | string }[] {
  const found: { pointer: string; entry: Obj | string }[] = [];
  if (typeof config.module === 'string') found.push({ pointer: '', entry: config });
  if (Array.isArray(config.chain)) {
    config.chain.forEach((item: unknown, i) => {
      if (typeof item === 'string' || isObject(item)) found.push({ pointer: `/chain/${i}`, entry: item });
    });
  }
  return found;
}

function webhookDifferences(config: Obj): Difference[] {
  const out: Difference[] = [];
  for (const { pointer, entry } of outputEntries(config)) {
    const module = typeof entry === 'string' ? entry : String(entry.module);
    if (typeof entry === 'string') out.push({ pointer, note: `CWM's short form: read as {"module": "${module}"} (same behaviour)` });
    if (module !== 'log') out.push({ pointer: `${pointer}/module`, note: OUTPUT_FAILS });
    const specific = MODULE_NOTES[module];
    if (specific !== undefined) out.push({ pointer: `${pointer}/module`, note: specific });
    const mc = typeof entry === 'string' ? undefined : entry['module-config'];
    if (module === 's3' && isObject(mc) && typeof mc.prefix === 'string' && mc.prefix.endsWith('/')) out.push({ pointer: `${pointer}/module-config/prefix`, note: 'the trailing / is dropped (CWM refused the config)' });
    const inherited = Object.hasOwn(config, 'connection') && pointer !== '';
    if ((typeof entry === 'string' || !Object.hasOwn(entry, 'connection')) && !inherited && (findOutput(module)?.connectionTypes.length ?? 0) > 0) {
      out.push({ pointer: `${pointer}/connection`, note: 'absent: sent through the DEFAULT_CONNECTIONS connection of its type (CWM used built-in defaults or failed every request); refused without one' });
    }
    if (module === 'redis_publish' && typeof entry !== 'string' && isObject(entry.redis)) out.push({ pointer: `${pointer}/redis`, note: 'only its channel is read; host and port are not connected to: the message goes to the webhook\'s connection (or DEFAULT_CONNECTIONS)' });
    if (module === 'save_to_disk' && isObject(mc) && (mc.filename_template !== undefined || mc.filename_pattern !== undefined)) out.push({ pointer: `${pointer}/module-config`, note: 'filename_template / filename_pattern is honoured (CWM always wrote <uuid4>.txt); a taken name gets -<uuid4> before its extension' });
    if (module === 'http_webhook' && isObject(mc) && mc.allowed_hosts !== undefined) out.push({ pointer: `${pointer}/module-config/allowed_hosts`, note: 'only restricts targets: the address checks still apply (in CWM a listed host skipped them)' });
  }
  for (const [check, note] of Object.entries(CHECK_NOTES)) {
    if (config[check] !== undefined && config[check] !== null) out.push({ pointer: `/${check}`, note });
  }
  for (const check of ['header_auth', 'query_auth'] as const) {
    const block = config[check];
    if (isObject(block) && block.case_sensitive === undefined) out.push({ pointer: `/${check}/case_sensitive`, note: 'absent means true: the key must match in case (CWM compared lower-cased by default); write false for CWM\'s behaviour' });
  }
  if (Array.isArray(config.trusted_proxies)) out.push({ pointer: '/trusted_proxies', note: 'from them the right-most untrusted X-Forwarded-For hop is the client (CWM: the left-most, which the client writes); CIDRs accepted' });
  if (isObject(config.json_schema) && !Object.hasOwn(config.json_schema, '$schema')) out.push({ pointer: '/json_schema', note: 'no $schema: validated as draft-07 (CWM\'s jsonschema used 2020-12)' });
  if (config.data_type === undefined || config.data_type === 'json') out.push({ pointer: '/data_type', note: 'json: a content type other than application/json or application/*+json gets 415 (CWM did not check it)' });
  if (JSON.stringify(config.json_schema ?? null).includes('{$')) out.push({ pointer: '/json_schema', note: 'placeholders inside it stay literal text (CWM substituted them)' });
  const chainConfig = config['chain-config'];
  if (Array.isArray(config.chain)) out.push({ pointer: '/chain-config', note: 'a 2xx means every output acknowledged: with continue_on_error the later outputs still run, but a failure answers 503 (CWM: 200)' });
  if (isObject(chainConfig) && chainConfig.timeout !== undefined) out.push({ pointer: '/chain-config/timeout', note: 'bounds sequential chains too (CWM: parallel only) and can only shorten OUTPUT_TIMEOUT_MS' });
  if (!Object.hasOwn(config, 'credential_cleanup')) out.push({ pointer: '/credential_cleanup', note: 'absent means off (CWM masked credentials in the payload by default); add {"enabled": true} for CWM\'s behaviour' });
  if (isObject(config.retry) && config.retry.enabled === true) out.push({ pointer: '/retry', note: '202 only once the delivery is durably in the spool (SPOOL_CONNECTION), every error is retried, delays get jitter (CWM retried in its own process and answered 202 after 0.1 s)' });
  return out;
}

function connectionDifferences(config: Obj): Difference[] {
  const out: Difference[] = [];
  const type = config.type;
  if (type === 'clickhouse') {
    out.push({ pointer: '/type', note: 'cwm speaks ClickHouse\'s HTTP interface; the connection does not turn on CWM\'s automatic log of every webhook event (add clickhouse outputs)' });
    if (config.port === 9000 || config.port === '9000') out.push({ pointer: '/port', note: '9000 is ClickHouse\'s native port, which CWM\'s code used; cwm needs the HTTP port (8123)' });
  }
  if (type === 'postgresql' || type === 'postgres' || type === 'mysql' || type === 'mariadb') {
    if (config.ssl === true) out.push({ pointer: '/ssl', note: 'the server certificate is verified (CWM\'s ssl did not); give ssl_ca_cert for a private CA' });
    if (!Object.hasOwn(config, 'pool_min_size')) out.push({ pointer: '/pool_min_size', note: 'absent means 0 (CWM: 2)' });
    out.push({ pointer: '/host', note: 'loopback and private hosts are accepted (CWM refused them): connections are operator config' });
  }
  if (type === 'activemq') out.push({ pointer: '/host', note: 'loopback and private hosts are accepted (CWM refused them): connections are operator config' });
  if (type === 'rabbitmq' && config.vhost !== undefined) out.push({ pointer: '/vhost', note: 'used (CWM always connected to /)' });
  if (type === 'mqtt') {
    if (config.mqtt_version === '3.1.1') out.push({ pointer: '/mqtt_version', note: 'means MQTT 3.1.1 (CWM connected with 3.1)' });
    if (config.user !== undefined && config.username === undefined) out.push({ pointer: '/user', note: 'used as the user name (CWM ignored it)' });
  }
  return out;
}

/** Differences from CWM of a config the receiver accepts (as written, before substitution). */
export function cwmDifferences(kind: EntryKind, config: unknown): Difference[] {
  if (!isObject(config)) return [];
  return kind === 'webhook' ? webhookDifferences(config) : connectionDifferences(config);
}
