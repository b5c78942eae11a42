/** Schema helpers every plugin folder shares (TypeBox builds the schemas; these keep the published JSON plain). */
import { Type, type SchemaOptions, type TUnsafe } from '@sinclair/typebox';

/**
 * A string from a fixed list as a plain `enum` (TypeBox's union of literals
 * becomes `anyOf` of `const`, whose errors read "must be equal to constant").
 */
export function stringEnum<T extends string>(values: readonly T[], options: SchemaOptions = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ ...options, type: 'string', enum: [...values] });
}
