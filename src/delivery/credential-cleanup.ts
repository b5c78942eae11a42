/**
 * CWM's `credential_cleanup`: credentials inside the payload and headers are
 * masked (`***REDACTED***`) or removed before outputs see them. A key counts
 * as a credential by CWM's rules: its lower-cased name is in CWM's field list
 * or the configured `fields`, or it contains password, secret, token, key,
 * credential or auth. The JSON body outputs receive is the cleaned payload.
 */
import { Type, type Static } from '@sinclair/typebox';
import { stringEnum } from '../schema-kit.js';

export const credentialCleanupSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    mode: stringEnum(['mask', 'remove'] as const, { default: 'mask' }),
    fields: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 100, default: [] }),
  },
  { additionalProperties: false },
);

export type CredentialCleanupConfig = Static<typeof credentialCleanupSchema>;

const CWM_FIELDS = [
  'password', 'passwd', 'pwd', 'secret', 'token', 'api_key', 'apikey', 'access_token', 'refresh_token', 'authorization', 'auth',
  'credential', 'credentials', 'private_key', 'privatekey', 'api_secret', 'client_secret', 'bearer', 'x-api-key', 'x-auth-token',
  'x-access-token', 'session_id', 'sessionid', 'session_token', 'csrf_token', 'csrf', 'oauth_token', 'oauth_secret', 'consumer_secret', 'token_secret',
];
const CWM_PATTERN = /password|secret|token|key|credential|auth/;
const MASK = '***REDACTED***';
const MAX_DEPTH = 100;

export interface Cleaned {
  readonly payload: unknown;
  readonly headers: Record<string, string>;
  /** Whether anything in the payload changed (then the body outputs get is re-serialised). */
  readonly payloadChanged: boolean;
}

export type CredentialCleaner = (payload: unknown, headers: Readonly<Record<string, string>>) => Cleaned;

function own(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function compileCredentialCleanup(config: CredentialCleanupConfig): CredentialCleaner | undefined {
  if (!config.enabled) return undefined;
  const names = new Set([...CWM_FIELDS, ...config.fields.map((f) => f.trim().toLowerCase())]);
  const secret = (key: string): boolean => {
    const k = key.trim().toLowerCase();
    return names.has(k) || CWM_PATTERN.test(k);
  };
  const remove = config.mode === 'remove';
  let changed = false;
  const clean = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const nested = v !== null && typeof v === 'object';
      // As CWM: a credential-named object is cleaned inside, not masked whole.
      if (secret(k) && !nested) {
        changed = true;
        if (!remove) own(out, k, MASK);
      } else own(out, k, clean(v, depth + 1));
    }
    return out;
  };
  return (payload, headers) => {
    changed = false;
    const cleanedPayload = clean(payload, 0);
    const payloadChanged = changed;
    const cleanedHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) {
      if (!secret(k)) own(cleanedHeaders, k, v);
      else if (!remove) own(cleanedHeaders, k, MASK);
    }
    return { payload: cleanedPayload, headers: cleanedHeaders, payloadChanged };
  };
}
