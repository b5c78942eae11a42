/** `query_auth`: a static API key in a named query parameter, compared in constant time; `case_sensitive` as for header_auth. */
import { Type } from '@sinclair/typebox';
import { caseFolded, caseSensitive, SecretDigest } from './constant-time.js';
import { unauthorized } from './rejections.js';
import { secret } from './schema-parts.js';
import { defineCheck } from './types.js';

export const queryAuthCheck = defineCheck({
  field: 'query_auth',
  schema: Type.Object({ parameter_name: Type.String({ minLength: 1, default: 'api_key' }), api_key: secret, case_sensitive: caseSensitive }, { additionalProperties: false }),
  phase: 'headers',
  order: 50,
  describe: (config) => ({ type: 'apiKey', in: 'query', name: config.parameter_name, description: `a static API key in the ${config.parameter_name} query parameter` }),
  compile(config) {
    const fold = caseFolded(config.case_sensitive);
    const secret = new SecretDigest(fold(config.api_key));
    const rejection = unauthorized(`missing or invalid ${config.parameter_name} query parameter`);
    return (req) => (secret.matches(fold(req.query.get(config.parameter_name) ?? undefined)) ? null : rejection);
  },
});
