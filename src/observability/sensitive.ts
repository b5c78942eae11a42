/**
 * The one list of what is secret in a request: header names that carry
 * credentials (a fixed base plus what each auth check declares, see
 * src/auth/registry.ts) and payload keys. Header forwarding, pino redaction
 * and the log output all read it from here.
 */

/** Credential headers no check needs to declare: they are secret whatever the config. */
const BASE_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'];

const headers = new Set<string>(BASE_HEADERS);

/** Called at load time by the check registry with each check's fixed credential headers. */
export function declareSensitiveHeaders(names: Iterable<string>): void {
  for (const n of names) headers.add(n.toLowerCase());
}

/** Lower-case header names that are never forwarded to outputs and always redacted in logs. */
export function sensitiveHeaders(): ReadonlySet<string> {
  return headers;
}

/**
 * Header names that look secret even when no check declared them (a sender's
 * own `X-Custom-Token`): redacted in log lines when `redact_sensitive` is on.
 */
export const SECRET_LOOKING_HEADER = /authorization|cookie|signature|secret|token|api[-_]?key|hmac|password/i;

/** Keys censored one and two levels below a logged field (payloads, configs, errors). */
export const SENSITIVE_KEYS: readonly string[] = ['secret', 'password', 'pass', 'api_key', 'authorization', 'client_secret', 'token'];
