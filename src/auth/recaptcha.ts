/**
 * `recaptcha` (CWM's block): the sender's reCAPTCHA token (header
 * `token_field`, or the JSON body's `recaptcha_token` / `recaptcha` /
 * `g-recaptcha-response`) is verified at Google's siteverify endpoint
 * (RECAPTCHA_VERIFY_URL); v3 also needs `score` ≥ `min_score`. The call is
 * cut at the request deadline; a failing endpoint answers 503.
 */
import { Type } from '@sinclair/typebox';
import { recaptchaVerifyUrl } from '../settings.js';
import { stringEnum } from '../schema-kit.js';
import { headerValue } from './request-headers.js';
import { storeUnavailable, unauthorized } from './rejections.js';
import { headerName, secret } from './schema-parts.js';
import { defineCheck } from './types.js';

const BODY_FIELDS = ['recaptcha_token', 'recaptcha', 'g-recaptcha-response'] as const;

function bodyToken(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  for (const field of BODY_FIELDS) {
    // Own properties only: a payload's prototype chain is not the sender's data.
    const v: unknown = Object.prototype.hasOwnProperty.call(payload, field) ? Object.getOwnPropertyDescriptor(payload, field)?.value : undefined;
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

export const recaptchaCheck = defineCheck({
  field: 'recaptcha',
  schema: Type.Object(
    {
      secret_key: secret,
      version: stringEnum(['v2', 'v3'] as const, { default: 'v3' }),
      token_source: stringEnum(['header', 'body'] as const, { default: 'header' }),
      token_field: Type.Unsafe<string>({ ...headerName, default: 'X-Recaptcha-Token' }),
      min_score: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    },
    { additionalProperties: false },
  ),
  phase: 'payload',
  order: 34,
  describe: (config) => ({ type: 'apiKey', in: 'header', name: config.token_field, description: config.token_source === 'header' ? 'a reCAPTCHA token' : 'a reCAPTCHA token in the JSON body (recaptcha_token)' }),
  credentialHeaders: (config) => [config.token_field.toLowerCase()],
  compile(config, ctx) {
    const url = recaptchaVerifyUrl();
    const header = config.token_field.toLowerCase();
    const missing = unauthorized(`missing reCAPTCHA token (expected in ${config.token_source === 'header' ? `header ${config.token_field}` : 'body'})`);
    const failed = unauthorized('reCAPTCHA verification failed');
    const lowScore = unauthorized(`reCAPTCHA score below threshold ${config.min_score}`);
    return async (req, signal) => {
      const token = config.token_source === 'header' ? headerValue(req.headers, header) : bodyToken(req.payload);
      if (token === undefined || token.trim() === '') return missing;
      const form = new URLSearchParams({ secret: config.secret_key, response: token });
      if (config.version === 'v3') form.set('remoteip', req.clientIp);
      let answer: unknown;
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        answer = await res.json();
      } catch (err) {
        ctx.logger.warn({ reason: (err as Error).message }, 'reCAPTCHA verification did not answer; answered 503');
        return storeUnavailable;
      }
      if (typeof answer !== 'object' || answer === null || !('success' in answer) || answer.success !== true) return failed;
      if (config.version === 'v2') return null;
      const score = 'score' in answer && typeof answer.score === 'number' ? answer.score : 0;
      return score >= config.min_score ? null : lowScore;
    };
  },
});
