/**
 * ajv options for the config schemas, shared by the build (standalone code)
 * and by anything that compiles them at run time: every error reported,
 * defaults filled in from the schemas, and strings coerced to the numbers and
 * booleans a schema asks for (a `{$PORT:6379}` placeholder yields "6379");
 * referenced definitions stay functions of their own (see schema/webhook.ts).
 */
export const CONFIG_AJV_OPTIONS = { allErrors: true, strict: false, useDefaults: true, coerceTypes: true, inlineRefs: false } as const;
