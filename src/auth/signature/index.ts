/** `signature`: the vendor presets by name, compiled once per config into a body-phase check. */
import type { SignatureScheme } from '../../config/types.js';
import { unauthorized } from '../rejections.js';
import type { RequestCheck } from '../types.js';
import { github } from './github.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { standardWebhooks } from './standard-webhooks.js';
import { stripe } from './stripe.js';
import type { SignaturePreset } from './types.js';

const PRESETS: ReadonlyMap<SignatureScheme, SignaturePreset> = new Map<SignatureScheme, SignaturePreset>([
  ['github', github],
  ['stripe', stripe],
  ['standard-webhooks', standardWebhooks],
  ['shopify', shopify],
  ['slack', slack],
]);

export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface SignatureOptions {
  readonly scheme: SignatureScheme;
  readonly secrets: readonly string[];
  readonly toleranceSeconds?: number;
  readonly now: () => number;
}

export function signatureCheck(options: SignatureOptions): RequestCheck {
  const preset = PRESETS.get(options.scheme) as SignaturePreset;
  const keys = options.secrets.map((s) => preset.keyFrom(s));
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  return {
    name: `signature:${options.scheme}`,
    phase: 'body',
    run(request) {
      const problem = preset.verify({ request, keys, nowMs: options.now(), toleranceSeconds });
      return problem === null ? null : unauthorized(problem);
    },
  };
}
