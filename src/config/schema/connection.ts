/**
 * The connection config schema, assembled from src/connections/registry.ts:
 * `type` picks exactly one connection type's schema (if/then, so an error
 * names only the fields of the type that was meant). Written to
 * schema/connection.schema.json by the build.
 */
import { CONNECTION_TYPES } from '../../connections/registry.js';

export function connectionSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://cwm.dev/schema/connection.schema.json',
    title: 'cwm connection config',
    description: 'Value of <prefix>global/connections/<name>; shared by every namespace. Generated from the connection type registry.',
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', enum: CONNECTION_TYPES.flatMap((t) => [t.type, ...t.aliases]) } },
    allOf: CONNECTION_TYPES.map((t) => {
      const names = [t.type, ...t.aliases];
      return {
        if: { properties: { type: { enum: names } }, required: ['type'] },
        then: { ...t.schema, properties: { type: { enum: names }, ...t.schema.properties } },
      };
    }),
  };
}
