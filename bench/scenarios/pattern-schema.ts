/**
 * A pattern-heavy payload schema for the security scenario: string properties
 * with the patterns teams write (email-like, UUID, ISO date-time, an enum-like
 * alternation, a commit hash) and a patternProperties block, all compiled by
 * cwm's RE2 engine (src/config/validation.ts). PATTERN_BODY is PAYLOAD's push
 * event plus the fields these patterns judge, and it passes the schema.
 */
import { PAYLOAD } from '../lib/payload.js';

export const PATTERN_SCHEMA = {
  type: 'object',
  required: ['action', 'delivery', 'ref', 'after', 'pusher', 'head_commit', 'labels'],
  properties: {
    action: { type: 'string', pattern: '^(opened|closed|reopened|synchronize|edited|pushed)$' },
    delivery: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' },
    ref: { type: 'string', pattern: '^refs/(heads|tags)/[A-Za-z0-9._/-]+$' },
    after: { type: 'string', pattern: '^[0-9a-f]{40}$' },
    pusher: {
      type: 'object',
      required: ['name', 'email'],
      properties: { name: { type: 'string', pattern: '^[A-Za-z0-9-]{1,39}$' }, email: { type: 'string', pattern: '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$' } },
    },
    head_commit: {
      type: 'object',
      required: ['timestamp'],
      properties: { timestamp: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$' } },
    },
    labels: {
      type: 'object',
      patternProperties: { '^[a-z][a-z0-9_-]{0,31}$': { type: 'string', pattern: '^[A-Za-z0-9 ._-]{1,64}$' } },
      additionalProperties: false,
    },
  },
};

export const PATTERN_BODY = JSON.stringify({
  ...(JSON.parse(PAYLOAD) as Record<string, unknown>),
  action: 'pushed',
  delivery: '3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c',
  pusher: { name: 'octocat', email: 'octocat@users.noreply.example.com' },
  labels: { team: 'payments', env: 'prod', tier: 'gold', region: 'eu-west-1' },
});
