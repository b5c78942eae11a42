/** `signature`: the vendor presets by name, compiled once per config into a body-phase check. */
import { stringEnum } from '../../schema-kit.js';
import { Type } from '@sinclair/typebox';
import { unauthorized } from '../rejections.js';
import { secretList, secrets } from '../schema-parts.js';
import { defineCheck } from '../types.js';
import { github } from './github.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { standardWebhooks } from './standard-webhooks.js';
import { stripe } from './stripe.js';
import type { SignaturePreset } from './types.js';

export type SignatureScheme = 'github' | 'stripe' | 'standard-webhooks' | 'shopify' | 'slack';

const PRESETS: ReadonlyMap<SignatureScheme, SignaturePreset> = new Map<SignatureScheme, SignaturePreset>([
  ['github', github],
  ['stripe', stripe],
  ['standard-webhooks', standardWebhooks],
  ['shopify', shopify],
  ['slack', slack],
]);

const DEFAULT_TOLERANCE_SECONDS = 300;

export const signatureCheck = defineCheck({
  field: 'signature',
  schema: Type.Object(
    {
      scheme: stringEnum([...PRESETS.keys()]),
      secret: secrets,
      tolerance_seconds: Type.Integer({ minimum: 1, maximum: 86400, default: DEFAULT_TOLERANCE_SECONDS }),
    },
    { additionalProperties: false },
  ),
  phase: 'body',
  order: 70,
  describe: (config) => ({ type: 'apiKey', in: 'header', name: (PRESETS.get(config.scheme) as SignaturePreset).headers[0] ?? '', description: `${config.scheme} webhook signature over the raw body` }),
  sensitiveHeaders: [...PRESETS.values()].flatMap((p) => p.headers),
  compile(config, ctx) {
    const preset = PRESETS.get(config.scheme) as SignaturePreset;
    const keys = secretList(config.secret).map((s) => preset.keyFrom(s));
    const toleranceSeconds = config.tolerance_seconds;
    return (request) => {
      const problem = preset.verify({ request, keys, nowMs: ctx.now(), toleranceSeconds });
      return problem === null ? null : unauthorized(problem);
    };
  },
});
