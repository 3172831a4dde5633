/**
 * A route's `cors` block -> CompiledCors (src/route/cors.ts applies it). The schema has checked the types;
 * here: origins are exact serialized origins, `*` never with credentials, and the gateway answering
 * preflights is not combined with forwarding them (`cors_preflight`).
 */
import { DEFAULT_CORS_MAX_AGE_SECONDS } from './constants.ts';
import type { CompiledCors } from './types.ts';

export interface CorsSource {
  allow_origins: string[];
  allow_credentials?: boolean;
  expose_headers?: string[];
  answer_preflight?: boolean;
  allow_methods?: string[];
  allow_headers?: string[];
  max_age_seconds?: number;
}

/** What a browser needs to read of a refusal: the challenge, and when to retry. */
const ALWAYS_EXPOSED = ['www-authenticate', 'retry-after'];
const DEFAULT_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const DEFAULT_HEADERS = ['authorization', 'content-type'];

export function compileCors(
  source: CorsSource,
  route: { methods?: string[]; cors_preflight?: boolean },
  report: (path: (string | number)[], message: string) => void,
): CompiledCors | undefined {
  let ok = true;
  const fail = (path: (string | number)[], message: string) => {
    ok = false;
    report(path, message);
  };
  source.allow_origins.forEach((origin, index) => {
    if (origin === '*') {
      if (source.allow_credentials) fail(['allow_origins', index], '"*" cannot be combined with "allow_credentials": browsers refuse it; list the origins');
      return;
    }
    let serialized: string | null = null;
    try {
      serialized = new URL(origin).origin;
    } catch {
      // reported below
    }
    if (serialized !== origin) fail(['allow_origins', index], `not an origin as browsers send it ("https://app.example", no path or trailing "/")${serialized && serialized !== 'null' ? `: ${JSON.stringify(serialized)}` : ''}`);
  });
  if (source.answer_preflight && route.cors_preflight) fail(['answer_preflight'], 'the gateway either answers preflights ("answer_preflight") or forwards them to the origin ("cors_preflight"), not both');
  if (!ok) return undefined;
  return {
    allowOrigins: source.allow_origins,
    allowCredentials: source.allow_credentials ?? false,
    exposeHeaders: [...new Set([...ALWAYS_EXPOSED, ...(source.expose_headers ?? []).map((h) => h.toLowerCase())])],
    answerPreflight: source.answer_preflight ?? false,
    allowMethods: source.allow_methods ?? route.methods ?? DEFAULT_METHODS,
    allowHeaders: (source.allow_headers ?? DEFAULT_HEADERS).map((h) => h.toLowerCase()),
    maxAgeSeconds: source.max_age_seconds ?? DEFAULT_CORS_MAX_AGE_SECONDS,
  };
}
