// Types of dist/src/config/schema-validators.js, which scripts/generate-validators.ts writes at build time.
import type { ValidateFunction } from 'ajv';

export declare const webhook: ValidateFunction;
export declare const connection: ValidateFunction;
