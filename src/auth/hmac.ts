/**
 * `hmac` (CWM's generic scheme): an HMAC of the raw body in a configured
 * header, as `<prefix><digest>` or `<algorithm>=<digest>` (GitHub's
 * `sha256=<hex>`; the algorithm name is case-insensitive and must be the
 * configured one). Hex digests are case-insensitive.
 */
import { stringEnum } from '../schema-kit.js';
import { Type } from '@sinclair/typebox';
import { headerValue } from './request-headers.js';
import { unauthorized } from './rejections.js';
import { headerName, secretList, secrets } from './schema-parts.js';
import { decodeBase64, decodeHex, macMatches } from './signature/mac.js';
import { defineCheck } from './types.js';

const ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;

export const hmacCheck = defineCheck({
  field: 'hmac',
  schema: Type.Object(
    {
      secret: secrets,
      header: Type.Unsafe<string>({ ...headerName, default: 'X-HMAC-Signature' }),
      algorithm: stringEnum(ALGORITHMS, { default: 'sha256' }),
      encoding: stringEnum(['hex', 'base64'] as const, { default: 'hex' }),
      prefix: Type.String({ default: '' }),
    },
    { additionalProperties: false },
  ),
  phase: 'body',
  order: 60,
  describe: (config) => ({ type: 'apiKey', in: 'header', name: config.header, description: `HMAC-${config.algorithm.toUpperCase()} of the raw body, ${config.encoding}${config.prefix ? `, prefixed ${config.prefix}` : ''}` }),
  credentialHeaders: (config) => [config.header.toLowerCase()],
  compile(config) {
    const keys = secretList(config.secret).map((s) => Buffer.from(s, 'utf8'));
    const name = config.header.toLowerCase();
    const decode = config.encoding === 'hex' ? decodeHex : decodeBase64;
    const labelled = `${config.algorithm}=`;
    const missing = unauthorized(`missing ${config.header} header`);
    const mismatch = unauthorized('signature does not match');
    const digestText = (value: string): string | undefined => {
      if (config.prefix !== '' && value.startsWith(config.prefix)) return value.slice(config.prefix.length);
      if (value.slice(0, labelled.length).toLowerCase() === labelled) return value.slice(labelled.length);
      return config.prefix === '' ? value : undefined;
    };
    return (req) => {
      const value = headerValue(req.headers, name);
      if (value === undefined) return missing;
      const text = digestText(value.trim());
      const mac = text === undefined ? undefined : decode(text);
      return mac && macMatches(config.algorithm, keys, [req.rawBody], [mac]) ? null : mismatch;
    };
  },
});
