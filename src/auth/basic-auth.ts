/** `basic_auth`: RFC 7617 credentials; user and password are both compared, in constant time. */
import { Type } from '@sinclair/typebox';
import { SecretDigest } from './constant-time.js';
import { headerValue } from './request-headers.js';
import { unauthorized } from './rejections.js';
import { secret } from './schema-parts.js';
import { defineCheck } from './types.js';

const SCHEME = /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i;

function credentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = header === undefined ? null : SCHEME.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** One answer shared by every webhook: it names no secret. */
const rejection = unauthorized('missing or invalid basic credentials', { 'www-authenticate': 'Basic realm="cwm", charset="UTF-8"' });

export const basicAuthCheck = defineCheck({
  field: 'basic_auth',
  schema: Type.Object({ username: Type.String({ minLength: 1 }), password: secret }, { additionalProperties: false }),
  phase: 'headers',
  order: 30,
  describe: () => ({ type: 'http', scheme: 'basic', description: 'HTTP Basic authentication' }),
  compile(config) {
    const user = new SecretDigest(config.username);
    const password = new SecretDigest(config.password);
    return (req) => {
      const given = credentials(headerValue(req.headers, 'authorization'));
      // Both comparisons always run: which half was wrong must not show in the timing.
      const userOk = user.matches(given?.user);
      const passwordOk = password.matches(given?.password);
      return userOk && passwordOk ? null : rejection;
    };
  },
});
