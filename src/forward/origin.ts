/** Sends the request on to the route's origin: path and query kept, body streamed, redirects returned. */

export function originUrl(origin: string, requestUrl: URL): URL {
  const target = new URL(origin);
  const base = target.pathname.endsWith('/') ? target.pathname.slice(0, -1) : target.pathname;
  target.pathname = base + requestUrl.pathname;
  target.search = requestUrl.search;
  return target;
}

export type OriginResult = { ok: true; response: Response } | { ok: false; reason: string };

export async function forwardToOrigin(request: Request, target: URL, headers: Headers): Promise<OriginResult> {
  const init: RequestInit = { method: request.method, headers, redirect: 'manual' };
  if (request.body !== null && request.method !== 'GET' && request.method !== 'HEAD') init.body = request.body;
  try {
    const response = await fetch(target, init);
    // The origin's response is passed back as it is; a fresh Response makes its headers mutable for callers.
    return { ok: true, response: new Response(response.body, response) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.name : 'fetch failed' };
  }
}

/** What the client sees when the origin cannot be reached: generic, like every gateway answer. */
export function badGateway(requestId: string): Response {
  return new Response(JSON.stringify({ error: 'bad_gateway', error_description: 'The origin could not be reached.', request_id: requestId }), {
    status: 502,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}
