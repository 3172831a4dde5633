/**
 * Request header names a policy may not give the gateway's own headers: the gateway removes the client's
 * header of that name and sends its own, so the origin would lose what the name means to it. Checked when
 * policies are compiled (src/forward/compile-forward.ts, src/config/compile.ts), never per request.
 */

/** Their values are secrets: never a request id (it is logged and sent on), never replaced by the assertion. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization', 'proxy-authorization', 'cookie', 'cf-access-jwt-assertion', 'x-api-key', 'api-key', 'x-auth-token', 'x-access-token',
  'x-csrf-token', 'x-xsrf-token', 'x-amz-security-token', 'x-goog-api-key', 'ocp-apim-subscription-key', 'x-functions-key',
];

/** RFC 9110 section 7.6.1 (and the older keep-alive forms): the next hop acts on them or drops them. */
const HOP_BY_HOP_HEADERS: readonly string[] = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Request headers with a standard meaning to the origin or the proxies on the way: RFC 9110 and 9111, the
 * Fetch standard's forbidden request headers, RFC 7239 and the de-facto proxy headers.
 */
const STANDARD_REQUEST_HEADERS: readonly string[] = [
  'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'access-control-request-headers', 'access-control-request-method',
  'cache-control', 'cdn-loop', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-range', 'content-type',
  'cookie2', 'date', 'dnt', 'expect', 'forwarded', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'max-forwards', 'origin', 'pragma', 'priority', 'range', 'referer', 'set-cookie', 'true-client-ip', 'user-agent',
  'via', 'x-real-ip',
  // Identity, client address and routing headers other proxies and platforms set, and tracing context.
  'remote-user', 'x-remote-user', 'x-auth-request-user', 'x-ms-client-principal', 'x-amzn-oidc-data', 'x-goog-iap-jwt-assertion',
  'client-ip', 'x-client-ip', 'x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-request-id', 'x-correlation-id',
  'traceparent', 'tracestate',
];

/** Namespaces others fill: Cloudflare (cf-connecting-ip, cf-ray...), browsers (sec-fetch-*) and proxies. */
const RESERVED_PREFIXES: readonly (readonly [prefix: string, setBy: string])[] = [
  ['cf-', 'Cloudflare sets'],
  ['sec-', 'browsers set'],
  ['proxy-', 'proxies set'],
  ['x-forwarded-', 'proxies set'],
];

/**
 * Why `prefix` may not be the identity header prefix, or null when it may. The gateway removes every client
 * header that starts with the prefix, on every forwarded request: a prefix that a standard header starts
 * with ("content-", "accept-", "x-") would strip the client's own headers, and one that overlaps a namespace
 * others fill ("cf-", "x-forwarded-") would strip theirs.
 */
export function identityPrefixProblem(prefix: string): string | null {
  const taken = [...CREDENTIAL_HEADERS, ...HOP_BY_HOP_HEADERS, ...STANDARD_REQUEST_HEADERS].find((name) => name.startsWith(prefix));
  if (taken) return `"${prefix}" would remove the client's "${taken}" header from every forwarded request: the gateway removes every header with the identity prefix`;
  const reserved = RESERVED_PREFIXES.find(([namespace]) => prefix.startsWith(namespace) || namespace.startsWith(prefix));
  if (reserved) return `"${prefix}" overlaps the "${reserved[0]}" namespace ${reserved[1]}: the gateway would remove their headers from every forwarded request`;
  return null;
}

/** Why the gateway may not send its assertion in the (lower-case) header `name`, or null when it may. */
export function assertionHeaderProblem(name: string): string | null {
  if (CREDENTIAL_HEADERS.includes(name)) return `"${name}" carries credentials: the client's would be removed and the assertion sent in its place`;
  if (HOP_BY_HOP_HEADERS.includes(name)) return `"${name}" is a hop-by-hop header (RFC 9110 section 7.6.1): the next hop acts on it or drops it, so the assertion would not reach the origin`;
  if (STANDARD_REQUEST_HEADERS.includes(name)) return `"${name}" is a standard request header: the origin would get the assertion in place of the client's`;
  const reserved = RESERVED_PREFIXES.find(([prefix]) => name.startsWith(prefix));
  if (reserved) return `"${name}" is in the "${reserved[0]}" namespace ${reserved[1]}: the origin would get the assertion in place of their header`;
  return null;
}
