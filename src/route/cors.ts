/**
 * CORS on the answers the gateway writes itself (401, 403, 429, 503), so a browser app can read why it was
 * refused instead of an opaque network error, and preflights the gateway answers when the route says so.
 * Pure: the route's compiled `cors` and the request's headers in, headers or a Response out.
 *
 * An Origin not on the route's list is never echoed: its answers carry no Access-Control-* header at all
 * (and `Vary: Origin`, so a cache never serves one origin's answer to another). `*` is allowed only without
 * credentials (the Fetch standard refuses it with credentials; the compiler refuses the combination).
 */
import type { CompiledCors } from '../config/types.ts';

/** Whether this Origin may read the gateway's answers on the route. */
export const corsAllows = (cors: CompiledCors, origin: string | null): origin is string =>
  origin !== null && (cors.allowOrigins.includes(origin) || (cors.allowOrigins.includes('*') && !cors.allowCredentials));

/** Adds the CORS headers for `origin` to one of the gateway's own answers (a Response it just built). */
export function applyCors(response: Response, cors: CompiledCors, origin: string | null): Response {
  response.headers.append('vary', 'Origin');
  if (!corsAllows(cors, origin)) return response;
  response.headers.set('access-control-allow-origin', origin);
  if (cors.allowCredentials) response.headers.set('access-control-allow-credentials', 'true');
  if (cors.exposeHeaders.length > 0) response.headers.set('access-control-expose-headers', cors.exposeHeaders.join(', '));
  return response;
}

/**
 * The gateway's answer to a preflight on a route with `cors.answer_preflight`: 204 with the allowed methods
 * and headers when the Origin is listed and the method and headers asked for are allowed; otherwise 204
 * without any Access-Control-* header, which the browser reads as a refusal (and which says nothing of the list).
 */
export function answerPreflight(cors: CompiledCors, headers: Headers): Response {
  const response = new Response(null, { status: 204, headers: { 'cache-control': 'no-store', vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' } });
  const origin = headers.get('origin');
  const method = headers.get('access-control-request-method') ?? '';
  const asked = (headers.get('access-control-request-headers') ?? '').split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  if (!corsAllows(cors, origin) || !cors.allowMethods.includes(method) || !asked.every((h) => cors.allowHeaders.includes(h))) return response;
  response.headers.set('access-control-allow-origin', origin);
  if (cors.allowCredentials) response.headers.set('access-control-allow-credentials', 'true');
  response.headers.set('access-control-allow-methods', cors.allowMethods.join(', '));
  if (cors.allowHeaders.length > 0) response.headers.set('access-control-allow-headers', cors.allowHeaders.join(', '));
  response.headers.set('access-control-max-age', String(cors.maxAgeSeconds));
  return response;
}
