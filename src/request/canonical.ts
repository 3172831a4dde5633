/**
 * The canonical request: computed once, at the top of the request path, and used for everything after it.
 * The route is matched on it, the origin receives it, and the assertion signs it, so the gateway judges
 * exactly what the origin serves. Pure: a refusal is a finding (400), never an exception.
 */
import { finding, type Finding } from '../findings.ts';
import { canonicalPath, type PathAmbiguity } from './canonical-path.ts';

export interface CanonicalRequest {
  /** The method the origin receives: the client's, unchanged (override headers are stripped on the way). */
  method: string;
  /** Lower case, without a trailing dot. */
  host: string;
  path: string;
  /** The query as the origin receives it, with its "?" ("" for none). */
  search: string;
  ambiguities: readonly PathAmbiguity[];
  /** Other readings of `path` (only with ambiguities): see canonical-path.ts. */
  readings: readonly string[];
}

export type Canonicalization = { ok: true; request: CanonicalRequest } | { ok: false; finding: Finding };

/**
 * Query parameters refused on every route: a second credential (RFC 6750 2.3, never forwarded) and a method
 * override (Rails, Laravel, Symfony run `_method` in place of the method judged). The override headers are
 * stripped instead (src/forward/sanitize.ts): as safe, since the origin then runs the method that was judged,
 * and free, where three header lookups per request are not.
 */
const REFUSED_QUERY_PARAMETERS = new Set(['access_token', '_method']);

const refuse = (detail: string, code: 'request_invalid' | 'path_ambiguous' = 'request_invalid'): Canonicalization => ({ ok: false, finding: finding(code, { detail }) });

const NONE: ReadonlySet<string> = new Set();

/**
 * Names of the query's parameters, split on "&" and ";" (older Python and PHP stacks split on both).
 * `yielding`: refused names some route reads a token from (an opt-in query source): judged per route, by
 * queryTokenFor, once the route is known.
 */
export function refusedParameter(search: string, yielding: ReadonlySet<string> = NONE): string | null {
  // Nearly every query has neither name nor an escape that could spell one: one scan, no parsing.
  if (!/access_token|_method|%/i.test(search)) return null;
  for (const pair of search.slice(1).split(/[&;]/)) {
    const raw = pair.split('=', 1)[0]!.replace(/\+/g, ' ');
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      name = raw;
    }
    const lower = name.trim().toLowerCase();
    if (REFUSED_QUERY_PARAMETERS.has(lower) && !yielding.has(lower)) return name;
  }
  return null;
}

/** The refused names that a query source of some route reads: the refusal yields to them until the route is known. */
export function queryTokenNames(routes: readonly { tokenSources?: readonly { kind: string; name?: string }[] }[]): ReadonlySet<string> {
  const names = new Set<string>();
  for (const route of routes) for (const source of route.tokenSources ?? []) if (source.kind === 'query' && REFUSED_QUERY_PARAMETERS.has(source.name!)) names.add(source.name!);
  return names.size === 0 ? NONE : names;
}

/** The names a route's query sources read (lower case); none without any. */
export const queryNamesOf = (sources: readonly { kind: string; name?: string }[] | undefined): readonly string[] =>
  sources === undefined ? [] : sources.flatMap((source) => (source.kind === 'query' ? [source.name!] : []));

export function canonicalRequest(method: string, url: URL, yielding: ReadonlySet<string> = NONE): Canonicalization {
  const parameter = refusedParameter(url.search, yielding);
  if (parameter !== null) return refuse(`query parameter ${JSON.stringify(parameter)} is refused on every route`);
  const path = canonicalPath(url.pathname);
  if (!path.ok) return refuse(path.reason, 'path_ambiguous');
  const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  return { ok: true, request: { method, host, path: path.path, search: url.search, ambiguities: path.ambiguities, readings: path.readings } };
}

/**
 * Once the route is known: a refused name the canonical stage let pass is refused here unless this route
 * reads its token from it, and the parameters the route's query sources name leave the query the origin
 * receives. `names`: the route's query source names (lower case).
 */
export function queryTokenFor(request: CanonicalRequest, names: readonly string[]): Canonicalization {
  const refused = refusedParameter(request.search, names.length === 0 ? NONE : new Set(names));
  if (refused !== null) return refuse(`query parameter ${JSON.stringify(refused)} is refused on this route (it reads no token from the query)`);
  if (names.length === 0) return { ok: true, request };
  return { ok: true, request: { ...request, search: withoutParameters(request.search, names) } };
}

/** The query without the parameters `names` (decoded, trimmed, lower case), every other byte as it was. */
export function withoutParameters(search: string, names: readonly string[]): string {
  if (search.length < 2) return search;
  const parts = search.slice(1).split(/([&;])/);
  const kept: string[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const pair = parts[i]!;
    const raw = pair.split('=', 1)[0]!.replace(/\+/g, ' ');
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      name = raw;
    }
    if (names.includes(name.trim().toLowerCase())) continue;
    // The separator that preceded a kept pair, as the client wrote it.
    if (kept.length > 0) kept.push(parts[i - 1]!);
    kept.push(pair);
  }
  return kept.length === 0 ? '' : `?${kept.join('')}`;
}
