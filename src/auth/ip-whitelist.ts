/** `ip_whitelist`: the resolved client address must fall in one of the configured CIDRs (403 otherwise). */
import { Type } from '@sinclair/typebox';
import { ConfigError } from '../errors.js';
import { CidrError, compileCidrs, contains } from './cidr.js';
import { forbidden } from './rejections.js';
import { defineCheck } from './types.js';

export const ipWhitelistCheck = defineCheck({
  field: 'ip_whitelist',
  schema: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    minItems: 1,
    maxItems: 1000,
    description: 'IPv4/IPv6 CIDRs or single addresses; X-Forwarded-For counts only from TRUSTED_PROXIES.',
  }),
  phase: 'headers',
  // Cheapest first: an address check needs no secret work at all.
  order: 10,
  compile(cidrs) {
    let list;
    try {
      list = compileCidrs(cidrs);
    } catch (err) {
      if (err instanceof CidrError) throw new ConfigError('', err.message);
      throw err;
    }
    const rejection = forbidden('client address not allowed');
    return (req) => (contains(list, req.clientIp) ? null : rejection);
  },
});
