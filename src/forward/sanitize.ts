/**
 * The headers the origin receives start from the client's, minus everything a client could forge: the
 * gateway's identity namespace, and the headers other proxies and frameworks read as authority over the
 * route, the client's address or its identity. Runs on every route and in every mode, before the gateway
 * adds its own.
 */

import { WEBSOCKET_BEARER_PROTOCOL_PREFIX } from '../config/constants.ts';
import type { TokenSource } from '../config/types.ts';

/**
 * A client's copy of these is never forwarded (docs/configuration.md lists them; settings.strip_headers adds
 * more). Route and method overrides (IIS, Zend, older Symfony read X-Original-URL / X-Rewrite-URL as the path
 * to run; Rails, Laravel, Symfony, Express method-override and ASP.NET read X-HTTP-Method-Override and its
 * siblings as the method to run: stripped, the origin runs the method the gateway judged);
 * the client address and host proxies vouch for (Express trust proxy, Django, Rails, Spring's
 * ForwardedHeaderFilter); and the identity headers of other gateways an origin may still trust (oauth2-proxy,
 * Apache, ALB, IAP, App Service).
 */
export const DEFAULT_STRIPPED_HEADERS = {
  names: [
    'x-original-url', 'x-rewrite-url', 'x-original-uri', 'x-original-host', 'x-http-method-override', 'x-http-method', 'x-method-override',
    'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix',
    'x-forwarded-server', 'x-forwarded-scheme', 'x-forwarded-ssl', 'x-real-ip', 'true-client-ip', 'x-client-ip', 'client-ip',
    'x-cluster-client-ip', 'remote-user', 'x-remote-user', 'x-remote-addr', 'x-forwarded-user', 'x-forwarded-email',
    'x-forwarded-preferred-username', 'x-forwarded-groups', 'x-forwarded-access-token', 'x-user', 'x-user-id', 'x-email',
    'x-goog-iap-jwt-assertion',
  ],
  prefixes: ['x-auth-request-', 'x-amzn-oidc-', 'x-ms-client-principal', 'x-goog-authenticated-user-'],
} as const;

/** What to remove, compiled once per isolate from the settings (compileStripList). */
export interface StripList {
  names: ReadonlySet<string>;
  prefixes: readonly string[];
}

/** The default list plus a policy's `strip_headers` (a name, or a prefix ending in "*"). */
export function compileStripList(extra: readonly string[] = []): StripList {
  const names = new Set<string>(DEFAULT_STRIPPED_HEADERS.names);
  const prefixes: string[] = [...DEFAULT_STRIPPED_HEADERS.prefixes];
  for (const entry of extra) {
    if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
    else names.add(entry);
  }
  return { names, prefixes };
}

export interface SanitizeOptions {
  identityHeaderPrefix: string;
  forwardAuthorization: boolean;
  /** The assertion header's name; it may lie outside the prefix and is removed all the same. */
  assertionHeader?: string | null;
  /** Default: the default list alone. */
  strip?: StripList;
  /** The route's token_sources: every credential they name is removed (the Authorization bearer follows forwardAuthorization). */
  tokenSources?: readonly TokenSource[];
}

const DEFAULT_STRIP_LIST = compileStripList();

/**
 * Copies the client's headers natively and deletes what must go: about 2.5x cheaper than appending the
 * survivors one by one (BENCHMARKS.md), and nearly every request has nothing to delete.
 */
export function sanitizeRequestHeaders(incoming: Headers, options: SanitizeOptions): Headers {
  const headers = new Headers(incoming);
  for (const name of incoming.keys()) {
    if (mustRemove(name, options)) headers.delete(name);
  }
  if (options.tokenSources !== undefined) removeTokenSources(headers, options.tokenSources);
  return headers;
}

/**
 * The credential never reaches the origin, whichever listed source carried it (or would have): the header
 * goes, the cookie's pairs leave Cookie with every other byte as the client sent it, and the bearer entry
 * leaves Sec-WebSocket-Protocol (src/forward/websocket.ts answers the handshake). The query is the gateway's
 * (src/request/query-token.ts).
 */
export function removeTokenSources(headers: Headers, sources: readonly TokenSource[]): void {
  for (const source of sources) {
    if (source.kind === 'header') headers.delete(source.name);
    else if (source.kind === 'cookie') setOrDelete(headers, 'cookie', withoutCookie(headers.get('cookie'), source.name));
    else if (source.kind === 'websocket_protocol') setOrDelete(headers, 'sec-websocket-protocol', withoutBearerProtocol(headers.get('sec-websocket-protocol')));
  }
}

function setOrDelete(headers: Headers, name: string, value: string | null | undefined): void {
  if (value === undefined) return;
  if (value === null) headers.delete(name);
  else headers.set(name, value);
}

/** Cookie without the pairs named `name`: undefined when it has none (left as it is), null when nothing else remains. */
export function withoutCookie(cookie: string | null, name: string): string | null | undefined {
  if (cookie === null || !cookie.includes(name)) return undefined;
  const pieces = cookie.split(';');
  const kept = pieces.filter((piece) => {
    const eq = piece.indexOf('=');
    return eq === -1 || piece.slice(0, eq).trim() !== name;
  });
  if (kept.length === pieces.length) return undefined;
  // The pieces keep their own spacing; only the space that followed a removed first pair goes.
  const rest = kept.join(';').replace(/^[ \t]+/, '');
  return rest.trim().length === 0 ? null : rest;
}

/** Sec-WebSocket-Protocol without the bearer entries: undefined when it has none, null when no other protocol remains. */
export function withoutBearerProtocol(value: string | null): string | null | undefined {
  if (value === null || !value.includes(WEBSOCKET_BEARER_PROTOCOL_PREFIX)) return undefined;
  const kept = value.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0 && !entry.startsWith(WEBSOCKET_BEARER_PROTOCOL_PREFIX));
  return kept.length === 0 ? null : kept.join(', ');
}

/** The request headers a CORS preflight needs to be answered: a preflight forwarded without a token carries nothing else. */
const PREFLIGHT_HEADERS = ['origin', 'access-control-request-method', 'access-control-request-headers', 'access-control-request-private-network'];

/** A bare preflight: no cookie, no credential, no client header an origin could act on; only what answers a preflight. */
export function preflightHeaders(incoming: Headers): Headers {
  const headers = new Headers();
  for (const name of PREFLIGHT_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

function mustRemove(name: string, options: SanitizeOptions): boolean {
  // Headers yields lower-case names, so one prefix test catches every casing a client tries. CGI, WSGI and
  // nginx (underscores_in_headers) read "_" as "-", so x-verified_sub would reach the app as x-verified-sub.
  const canonical = name.includes('_') ? name.replace(/_/g, '-') : name;
  if (canonical.startsWith(options.identityHeaderPrefix) || canonical === options.assertionHeader) return true;
  if (name === 'authorization') return !options.forwardAuthorization;
  const strip = options.strip ?? DEFAULT_STRIP_LIST;
  if (strip.names.has(canonical)) return true;
  for (const prefix of strip.prefixes) if (canonical.startsWith(prefix)) return true;
  return false;
}
