/** Schema pieces several checks share. */
import { Type } from '@sinclair/typebox';

export const secret = Type.String({ minLength: 1 });

/** One secret, or several during a rotation (any of them verifies). */
export const secrets = Type.Union([secret, Type.Array(secret, { minItems: 1, maxItems: 10 })]);

export const headerName = Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$" });

export const connectionName = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });

export function secretList(secret: string | readonly string[]): readonly string[] {
  return typeof secret === 'string' ? [secret] : secret;
}
