/** `authorization`: the Authorization header must equal the configured value exactly (e.g. "Bearer x"). */
import { SecretDigest } from './constant-time.js';
import { headerValue } from './request-headers.js';
import { unauthorized } from './rejections.js';
import { secret } from './schema-parts.js';
import { defineCheck } from './types.js';

/** One answer shared by every webhook: it names no secret. */
const rejection = unauthorized('missing or invalid Authorization header');

export const authorizationCheck = defineCheck({
  field: 'authorization',
  schema: { ...secret, description: 'Expected Authorization header value, e.g. "Bearer {$CWM_SECRET_TOKEN}".' },
  phase: 'headers',
  order: 20,
  // Only the scheme word of the expected value ("Bearer"), never the value itself.
  describe: (config) => (/^bearer\s/i.test(config) ? { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <token> (a static token)' } : { type: 'apiKey', in: 'header', name: 'Authorization', description: 'a static Authorization header value' }),
  compile(expected) {
    const secret = new SecretDigest(expected);
    return (req) => (secret.matches(headerValue(req.headers, 'authorization')) ? null : rejection);
  },
});
