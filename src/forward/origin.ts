/**
 * Sends the request on to the route's origin: method, query and body kept, body streamed (never read
 * here), redirects returned rather than followed, WebSocket upgrades passed through. Where it goes is
 * decided by the policy alone: a URL, the incoming URL (same-url), or a service binding.
 */
import type { OriginTarget } from '../config/types.ts';
import type { Env } from '../env.ts';

export interface ResolvedOrigin {
  url: URL;
  /** A service binding's fetcher; null to use the global fetch. */
  fetcher: Fetcher | null;
}

/** The request path with the route's strip prefix taken off (only on a whole-segment match). */
function strippedPath(path: string, prefix: string | null): string {
  if (prefix === null) return path;
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}

/** Base URL + the request's (stripped) path and query. */
export function originUrl(origin: string, requestUrl: URL, stripPathPrefix: string | null = null): URL {
  const target = new URL(origin);
  const base = target.pathname.endsWith('/') ? target.pathname.slice(0, -1) : target.pathname;
  target.pathname = base + strippedPath(requestUrl.pathname, stripPathPrefix);
  target.search = requestUrl.search;
  return target;
}

export type ResolveResult = { ok: true; origin: ResolvedOrigin } | { ok: false; reason: string };

export function resolveOrigin(target: OriginTarget, requestUrl: URL, env: Env): ResolveResult {
  switch (target.kind) {
    case 'url':
      return { ok: true, origin: { url: originUrl(target.url, requestUrl, target.stripPathPrefix), fetcher: null } };
    case 'same-url':
      // On a zone route, a Worker's subrequest to its own URL goes to the zone's origin, not back to the Worker.
      return { ok: true, origin: { url: new URL(requestUrl), fetcher: null } };
    case 'service': {
      const binding = (env as unknown as Record<string, unknown>)[target.binding] as Fetcher | undefined;
      if (typeof binding?.fetch !== 'function') return { ok: false, reason: `service binding ${target.binding} is not bound` };
      return { ok: true, origin: { url: originUrl(requestUrl.origin, requestUrl, target.stripPathPrefix), fetcher: binding } };
    }
  }
}

export type OriginResult = { ok: true; response: Response } | { ok: false; kind: 'timeout' | 'unreachable'; reason: string };

/** The timer's callback: one function for every request, so arming the timer allocates no closure. */
function abortOnTimeout(controller: AbortController): void {
  controller.abort(new DOMException('the origin did not answer in time', 'TimeoutError'));
}

/**
 * The timeout covers the wait for the origin's response headers; a streaming body may take longer.
 *
 * The timer ends with the answer: an AbortController and a setTimeout cleared as soon as fetch settles.
 * AbortSignal.timeout (used before) cannot be cleared, so its timer stayed armed for the whole
 * origin_timeout_ms after every answer. workerd counts armed timers per IoContext, at most 10,000
 * (TimeoutManager::MAX_TIMEOUTS in workerd's io-context; AbortSignal.timeout arms one through
 * setTimeoutInternal): a deployed stateless Worker gets an IoContext per incoming request, so one request
 * could only meet the cap by forwarding 10,000 times, and its leftover timers end with it. But every request
 * a test sends from inside one test shares that test's IoContext: the fuzz suite's ten-thousandth forwarded
 * request within 30 s failed with QuotaExceededError. Cost, measured in workerd (9,000 per request, 100
 * requests each): 5.2 µs of CPU per forwarded request for this, against 4.6 µs for AbortSignal.timeout.
 */
export async function forwardToOrigin(request: Request, origin: ResolvedOrigin, headers: Headers, timeoutMs: number): Promise<OriginResult> {
  const controller = new AbortController();
  const timer = setTimeout(abortOnTimeout, timeoutMs, controller);
  const init: RequestInit = { method: request.method, headers, redirect: 'manual', signal: controller.signal };
  if (request.body !== null && request.method !== 'GET' && request.method !== 'HEAD') init.body = request.body;
  try {
    // The origin's response goes back as it is (a WebSocket upgrade included): no copy of its body or headers.
    return { ok: true, response: await (origin.fetcher ? origin.fetcher.fetch(origin.url, init) : fetch(origin.url, init)) };
  } catch (error) {
    if (controller.signal.aborted) return { ok: false, kind: 'timeout', reason: `no response in ${timeoutMs} ms` };
    return { ok: false, kind: 'unreachable', reason: error instanceof Error ? error.name : 'fetch failed' };
  } finally {
    clearTimeout(timer);
  }
}
