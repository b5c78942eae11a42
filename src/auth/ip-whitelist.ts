/** `ip_whitelist`: the resolved client address must fall in one of the configured CIDRs (403 otherwise). */
import { CidrError, compileCidrs, contains } from './cidr.js';
import { AuthConfigError, forbidden } from './rejections.js';
import type { RequestCheck } from './types.js';

export function ipWhitelistCheck(cidrs: readonly string[]): RequestCheck {
  let list;
  try {
    list = compileCidrs(cidrs);
  } catch (err) {
    if (err instanceof CidrError) throw new AuthConfigError(`/ip_whitelist: ${err.message}`);
    throw err;
  }
  const rejection = forbidden('client address not allowed');
  return {
    name: 'ip_whitelist',
    phase: 'headers',
    run: (req) => (contains(list, req.clientIp) ? null : rejection),
  };
}
