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

/** Names of the query's parameters, split on "&" and ";" (older Python and PHP stacks split on both). */
export function refusedParameter(search: string): string | null {
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
    if (REFUSED_QUERY_PARAMETERS.has(name.trim().toLowerCase())) return name;
  }
  return null;
}

export function canonicalRequest(method: string, url: URL): Canonicalization {
  const parameter = refusedParameter(url.search);
  if (parameter !== null) return refuse(`query parameter ${JSON.stringify(parameter)} is refused on every route`);
  const path = canonicalPath(url.pathname);
  if (!path.ok) return refuse(path.reason, 'path_ambiguous');
  const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  return { ok: true, request: { method, host, path: path.path, search: url.search, ambiguities: path.ambiguities, readings: path.readings } };
}
