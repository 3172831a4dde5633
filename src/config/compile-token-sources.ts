/**
 * `token_sources` (issuer or route) -> the compiled list src/token/sources.ts reads. The schema has checked
 * each entry's form; this checks what it cannot: a header that is a source must be one the gateway would
 * otherwise leave alone, and the same place may not be named twice. Once every route is compiled, a route
 * without a list of its own takes its issuers' (resolveTokenSources).
 */
import type { CompiledIssuer, CompiledRoute, CompiledSettings, TokenSource } from './types.ts';

/** A source as the policy writes it (the schema has checked it). */
export interface TokenSourceSource {
  kind: TokenSource['kind'];
  name?: string;
  scheme?: string;
  unsafe?: true;
}

export interface TokenSourceContext {
  identityHeaderPrefix: string;
  assertionHeader: string | null;
  requestIdHeader: string | null;
}

/** Headers with a meaning of their own: a token there has its own kind, or would be the gateway's or the browser's. */
const NOT_A_TOKEN_HEADER: Readonly<Record<string, string>> = {
  authorization: 'use {"kind": "authorization"} for the Authorization bearer',
  cookie: 'use {"kind": "cookie", "name": ...} for a cookie',
  'sec-websocket-protocol': 'use {"kind": "websocket_protocol"} for the WebSocket subprotocol form',
  host: 'Host names the site, not a credential',
};

/** What a header source may not be: the gateway's own headers under these settings. */
export const tokenSourceContext = (settings: CompiledSettings): TokenSourceContext => ({
  identityHeaderPrefix: settings.identityHeaderPrefix,
  assertionHeader: settings.assertion?.header ?? null,
  requestIdHeader: settings.requestIdHeader,
});

export function compileTokenSources(
  sources: readonly TokenSourceSource[],
  context: TokenSourceContext,
  report: (index: number, message: string) => void,
): TokenSource[] {
  const compiled: TokenSource[] = [];
  const seen = new Set<string>();
  sources.forEach((source, index) => {
    const entry = compileOne(source, context, (message) => report(index, message));
    if (entry === null) return;
    const key = entry.kind === 'header' || entry.kind === 'cookie' || entry.kind === 'query' ? `${entry.kind}:${entry.name}` : entry.kind;
    if (seen.has(key)) report(index, `${key} is already listed: each place is read once`);
    seen.add(key);
    compiled.push(entry);
  });
  return compiled;
}

function compileOne(source: TokenSourceSource, context: TokenSourceContext, report: (message: string) => void): TokenSource | null {
  switch (source.kind) {
    case 'authorization':
      return { kind: 'authorization' };
    case 'websocket_protocol':
      return { kind: 'websocket_protocol' };
    case 'cookie':
      return { kind: 'cookie', name: source.name! };
    case 'query':
      return { kind: 'query', name: source.name!.toLowerCase() };
    case 'header': {
      const name = source.name!.toLowerCase();
      const canonical = name.replace(/_/g, '-');
      const problem = NOT_A_TOKEN_HEADER[canonical]
        ?? (canonical.startsWith(context.identityHeaderPrefix) || canonical === context.assertionHeader ? `"${name}" is in the gateway's identity namespace: it is removed from every request as forged` : null)
        ?? (name === context.requestIdHeader ? `"${name}" is the request id header: its value is logged and answered` : null);
      if (problem !== null) {
        report(problem);
        return null;
      }
      return source.scheme === undefined ? { kind: 'header', name } : { kind: 'header', name, scheme: source.scheme };
    }
  }
}

const keyOf = (source: TokenSource) => JSON.stringify(source);

/**
 * A route's sources: its own, else its issuers' in the order of issuers (a source named by two is read once),
 * else undefined, which means the Authorization bearer alone and keeps the compiled route as it was.
 */
export function routeTokenSources(own: TokenSource[] | undefined, issuers: readonly (TokenSource[] | undefined)[]): TokenSource[] | undefined {
  if (own !== undefined) return isBearerOnly(own) ? undefined : own;
  if (issuers.every((list) => list === undefined)) return undefined;
  const merged = new Map<string, TokenSource>();
  for (const list of issuers) for (const source of list ?? [{ kind: 'authorization' } as const]) merged.set(keyOf(source), merged.get(keyOf(source)) ?? source);
  const result = [...merged.values()];
  return isBearerOnly(result) ? undefined : result;
}

const isBearerOnly = (sources: readonly TokenSource[]) => sources.length === 1 && sources[0]!.kind === 'authorization';

/** Each route's sources: its own, else its issuers' (routeTokenSources); csrf_origins only where a cookie can carry the token. */
export function resolveTokenSources(routes: CompiledRoute[], issuers: Record<string, CompiledIssuer>, report: (route: CompiledRoute, field: string, message: string) => void): void {
  for (const route of routes) {
    const sources = routeTokenSources(route.tokenSources, route.issuers.map((id) => issuers[id]?.tokenSources));
    if (route.tokenSources === undefined && sources !== undefined) route.tokenSourcesFromIssuers = true;
    if (sources === undefined) delete route.tokenSources;
    else route.tokenSources = sources;
    if (route.csrfOrigins && !sources?.some((s) => s.kind === 'cookie')) report(route, 'csrf_origins', 'no cookie carries this route\'s token, so "csrf_origins" would change nothing');
  }
}
