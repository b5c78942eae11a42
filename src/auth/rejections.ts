/** The two answers an auth check gives (DESIGN §3): 401 for credentials and signatures, 403 for addresses. */
import type { Rejection } from './types.js';

export function unauthorized(error: string, headers?: Readonly<Record<string, string>>): Rejection {
  return headers ? { status: 401, error, headers } : { status: 401, error };
}

export function forbidden(error: string): Rejection {
  return { status: 403, error };
}

/** Raised while compiling a config whose auth fields cannot work; the previous version then stays active. */
export class AuthConfigError extends Error {}
