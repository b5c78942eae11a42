/**
 * `header_auth`: a static API key in a named header, compared in constant time.
 * `case_sensitive: false` (CWM's default; cwm's default is true, see
 * caseFolded) compares both sides lower-cased, still as fixed-length digests.
 */
import { Type } from '@sinclair/typebox';
import { caseFolded, caseSensitive, SecretDigest } from './constant-time.js';
import { headerValue } from './request-headers.js';
import { unauthorized } from './rejections.js';
import { headerName, secret } from './schema-parts.js';
import { defineCheck } from './types.js';

export const headerAuthCheck = defineCheck({
  field: 'header_auth',
  schema: Type.Object({ header_name: Type.Unsafe<string>({ ...headerName, default: 'X-API-Key' }), api_key: secret, case_sensitive: caseSensitive }, { additionalProperties: false }),
  phase: 'headers',
  order: 40,
  describe: (config) => ({ type: 'apiKey', in: 'header', name: config.header_name, description: `a static API key in ${config.header_name}` }),
  credentialHeaders: (config) => [config.header_name.toLowerCase()],
  compile(config) {
    const name = config.header_name.toLowerCase();
    const fold = caseFolded(config.case_sensitive);
    const secret = new SecretDigest(fold(config.api_key));
    const rejection = unauthorized(`missing or invalid ${config.header_name} header`);
    return (req) => (secret.matches(fold(headerValue(req.headers, name))) ? null : rejection);
  },
});
