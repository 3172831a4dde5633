/**
 * Sends the request on to the route's origin: method, query and body kept, body streamed (never read
 * here), redirects returned rather than followed, WebSocket upgrades passed through. Where it goes is
 * decided by the policy alone: a URL, the incoming URL (same-url), or a service binding.
 */
import type { OriginTarget } from '../config/types.ts';
import type { Env } from '../env.ts';
import type { CanonicalRequest } from '../request/canonical.ts';

export interface ResolvedOrigin {
  url: URL;
  /** A service binding's fetcher; null to use the global fetch. */
  fetcher: Fetcher | null;
}

/** The request path with the route's strip prefix taken off (only on a whole-segment match, in any case: paths are matched case-insensitively too). */
function strippedPath(path: string, prefix: string | null): string {
  if (prefix === null) return path;
  const head = path.slice(0, prefix.length);
  if (head !== prefix && head.toLowerCase() !== prefix.toLowerCase()) return path;
  if (path.length === prefix.length) return '/';
  return path[prefix.length] === '/' ? path.slice(prefix.length) : path;
}

/** Base URL + the request's canonical (stripped) path and query. */
export function originUrl(origin: string, path: string, search: string, stripPathPrefix: string | null = null): URL {
  const target = new URL(origin);
  const base = target.pathname.endsWith('/') ? target.pathname.slice(0, -1) : target.pathname;
  target.pathname = base + strippedPath(path, stripPathPrefix);
  target.search = search;
  return target;
}

export type ResolveResult = { ok: true; origin: ResolvedOrigin } | { ok: false; reason: string };

/** Where the request goes, with the canonical path and query the gateway judged: the origin never sees another spelling. */
export function resolveOrigin(target: OriginTarget, request: Pick<CanonicalRequest, 'path' | 'search'>, requestUrl: URL, env: Env): ResolveResult {
  switch (target.kind) {
    case 'url':
      return { ok: true, origin: { url: originUrl(target.url, request.path, request.search, target.stripPathPrefix), fetcher: null } };
    case 'same-url':
      // On a zone route, a Worker's subrequest to its own URL goes to the zone's origin, not back to the Worker.
      return { ok: true, origin: { url: originUrl(requestUrl.origin, request.path, request.search), fetcher: null } };
    case 'service': {
      const binding = (env as unknown as Record<string, unknown>)[target.binding] as Fetcher | undefined;
      if (typeof binding?.fetch !== 'function') return { ok: false, reason: `service binding ${target.binding} is not bound` };
      return { ok: true, origin: { url: originUrl(requestUrl.origin, request.path, request.search, target.stripPathPrefix), fetcher: binding } };
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
 * AbortSignal.timeout relayed to this controller only while the headers are awaited measured no cheaper, and
 * has no fallback at the cap: every timer counts against it (BENCHMARKS.md, session 19). The signal handed
 * to fetch also guards the response body in workerd, so nothing may abort it once the headers are in
 * (test/integration/origin-deadline.test.ts).
 */
export async function forwardToOrigin(request: Request, method: string, origin: ResolvedOrigin, headers: Headers, timeoutMs: number, body: BodyInit | null = request.body): Promise<OriginResult> {
  const controller = new AbortController();
  const timer = setTimeout(abortOnTimeout, timeoutMs, controller);
  const init: RequestInit = { method, headers, redirect: 'manual', signal: controller.signal };
  if (body !== null && method !== 'GET' && method !== 'HEAD') init.body = body;
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
