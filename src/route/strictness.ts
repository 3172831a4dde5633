/**
 * Whether one route is at least as strict as another: every request it admits, the other would admit too.
 * When a request can be read as more than one path (case, a trailing slash, HEAD as GET, an allowed
 * ambiguity), the gateway judges it by the strictest route among the readings, so whichever handler the
 * origin runs, the token was checked at least as hard as that handler's route demands. Routes that are
 * not comparable (two apps, two issuers) make the request ambiguous: refused.
 */
import type { CompiledRoute, RouteMode } from '../config/types.ts';
import { sourceLabel } from '../token/sources.ts';

const MODE_RANK: Record<RouteMode, number> = { public: 0, 'report-only': 1, optional: 2, enforce: 3 };

const subset = (a: readonly string[], b: readonly string[]) => a.every((x) => b.includes(x));
/** A rule's requirement, whatever it answers (401 or 403): both refuse the same tokens. A path variable's rule names its segment. */
const ruleKeys = (route: CompiledRoute) => (route.claims ?? []).map((rule) => JSON.stringify([rule.path, rule.test]));

/** Every token a's scope requirements admit, b's admit too: b's any-of is met by a's any-of (a subset) or by one of a's all-of. */
function scopesAtLeastAsStrict(a: CompiledRoute, b: CompiledRoute): boolean {
  if (!subset(b.scopes, a.scopes)) return false;
  if (b.scopesAny === undefined) return true;
  return (a.scopesAny !== undefined && subset(a.scopesAny, b.scopesAny)) || a.scopes.some((s) => b.scopesAny!.includes(s));
}

/** Where a route takes its token from; a route without token_sources reads the Authorization bearer alone. */
const BEARER_ONLY = ['authorization'];
const sourcesOf = (route: CompiledRoute) => route.tokenSources?.map(sourceLabel) ?? BEARER_ONLY;

export function atLeastAsStrict(a: CompiledRoute, b: CompiledRoute): boolean {
  if (a === b || b.mode === 'public') return true;
  if (MODE_RANK[a.mode] < MODE_RANK[b.mode]) return false;
  // A preflight a lets through without a token is a request b would have checked.
  if (a.corsPreflight === true && b.corsPreflight !== true) return false;
  return (
    subset(a.issuers, b.issuers) &&
    subset(a.audiences, b.audiences) &&
    (b.app === null || a.app === b.app) &&
    scopesAtLeastAsStrict(a, b) &&
    subset(ruleKeys(b), ruleKeys(a)) &&
    // A token a takes from a cookie or the query is one b would never have read; more CSRF origins admit more.
    subset(sourcesOf(a), sourcesOf(b)) &&
    subset(a.csrfOrigins ?? [], b.csrfOrigins ?? [])
  );
}

/** The one route at least as strict as every other of `routes`, or null when none is. */
export function strictestOf(routes: readonly CompiledRoute[]): CompiledRoute | null {
  if (routes.length === 1) return routes[0]!;
  return routes.find((candidate) => routes.every((other) => atLeastAsStrict(candidate, other))) ?? null;
}
