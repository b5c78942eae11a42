// Types of dist/src/config/schema-validators.js, which scripts/generate-validators.ts writes at build time.
import type { ErrorObject } from 'ajv';

/** An ajv standalone validator: a plain function that leaves its errors on itself. */
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

export declare const webhook: SchemaValidator;
export declare const connection: SchemaValidator;
