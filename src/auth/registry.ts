/**
 * Every request check, one line each; the published webhook schema's auth
 * fields, the order checks run in and the list of credential headers are
 * all taken from this list.
 */
import { declareSensitiveHeaders } from '../observability/sensitive.js';
import { authorizationCheck } from './authorization.js';
import { basicAuthCheck } from './basic-auth.js';
import { digestAuthCheck } from './digest-auth.js';
import { headerAuthCheck } from './header-auth.js';
import { hmacCheck } from './hmac.js';
import { ipWhitelistCheck } from './ip-whitelist.js';
import { jwtCheck } from './jwt.js';
import { oauth1Check } from './oauth1.js';
import { oauth2Check } from './oauth2.js';
import { queryAuthCheck } from './query-auth.js';
import { recaptchaCheck } from './recaptcha.js';
import { rateLimitCheck } from './rate-limit/index.js';
import { signatureCheck } from './signature/index.js';
import type { CheckModule } from './types.js';

/** In run order. */
export const CHECKS: readonly CheckModule[] = [
  ipWhitelistCheck,
  authorizationCheck,
  basicAuthCheck,
  digestAuthCheck,
  jwtCheck,
  oauth1Check,
  oauth2Check,
  recaptchaCheck,
  headerAuthCheck,
  queryAuthCheck,
  hmacCheck,
  signatureCheck,
  rateLimitCheck,
].sort((a, b) => a.order - b.order);

declareSensitiveHeaders(CHECKS.flatMap((c) => c.sensitiveHeaders));
