/**
 * The `routes` of every policy file -> CompiledRoute[]: where each applies (path, host, methods), what its
 * mode requires of a token, and where it forwards (src/forward/compile-forward.ts) with what. Checks that
 * need every route at once (precedence, forwarded path spaces) are in route-checks.ts.
 */
import { checkUrl } from './check-url.ts';
import { compileClaimRules, toClaimPath, type ClaimRuleSource } from './compile-claims.ts';
import { compileCors, type CorsSource } from './compile-cors.ts';
import { compileOriginByClaim, type OriginByClaimSource } from './compile-origin-choice.ts';
import { compileHost, compilePath } from './compile-path.ts';
import { compileTokenSources, tokenSourceContext, type TokenSourceSource } from './compile-token-sources.ts';
import type { ErrorList, Report } from './policy-errors.ts';
import { forEachDeclared, type ReadPolicyFile } from './policy-files.ts';
import { routeAppProblem } from './presets.ts';
import type { ClaimRule, CompiledIssuer, CompiledRateLimit, CompiledRoute, CompiledSettings, PathVariable, RouteForwarding, RouteMode } from './types.ts';
import { compileForwarding, compileOrigin, type ForwardingSource, type OriginSource } from '../forward/compile-forward.ts';
import type { PathAmbiguity } from '../request/canonical-path.ts';

/** A route as the policy file writes it; the schema has been checked before these are read. */
export interface RouteSource extends ForwardingSource {
  path: string;
  host?: string;
  methods?: string[];
  mode?: RouteMode;
  claims?: ClaimRuleSource[];
  cors_preflight?: boolean;
  allow_in_path?: PathAmbiguity[];
  issuers?: string[];
  audiences?: string[];
  app?: string;
  scopes?: string[];
  scopes_any?: string[];
  forward_authorization?: boolean;
  token_sources?: TokenSourceSource[];
  csrf_origins?: string[];
  cors?: CorsSource;
  origin_by_claim?: OriginByClaimSource;
  rate_limit?: { binding: string; key?: (string | string[])[]; mode?: 'enforce' | 'report-only'; period_seconds?: 10 | 60 };
}

/** What routes are compiled against: what compileSettings and compileIssuers made. */
export interface RouteContext {
  settings: CompiledSettings;
  defaultOrigin: OriginSource | undefined;
  /** Every issuer id the policies declare, compiled or not: a broken issuer is reported once, where it is. */
  declaredIssuers: ReadonlyMap<string, string>;
  issuers: Readonly<Record<string, CompiledIssuer>>;
}

/** One budget per subject of one issuer: sub alone is only unique within its issuer. */
const DEFAULT_RATE_LIMIT_KEY = ['iss', 'sub'];

/** The routes that compiled, in file order. */
export function compileRoutes(files: readonly ReadPolicyFile[], context: RouteContext, errors: ErrorList): CompiledRoute[] {
  const routes: CompiledRoute[] = [];
  forEachDeclared(files, 'routes', errors, (id, source, file) => {
    const route = compileRoute(id, source, file, context, errors);
    if (route) routes.push(route);
    // A route's app that its issuer's preset can never match (a list claim) fails here, not on every request.
    for (const issuerId of source.app === undefined ? [] : (source.issuers ?? [])) {
      const problem = context.issuers[issuerId] && routeAppProblem(context.issuers[issuerId]);
      if (problem) errors.reportAt(file, 'routes', id)(['app'], problem);
    }
  });
  return routes;
}

function compileRoute(id: string, source: RouteSource, file: string, context: RouteContext, errors: ErrorList): CompiledRoute | null {
  const report = errors.reportAt(file, 'routes', id);
  const before = errors.errors.length;
  const path = compilePath(source.path);
  if (typeof path === 'string') report(['path'], path);
  const host = source.host === undefined ? null : compileHost(source.host);
  if (source.host !== undefined && host === null) report(['host'], 'not a host name or "*.domain"');
  const mode = source.mode ?? 'enforce';
  checkTokenFields(source, mode, context.declaredIssuers, report);
  const claims = compileRouteClaims(source, typeof path === 'string' ? [] : (path.variables ?? []), mode, report);
  const tokenSources = source.token_sources && compileTokenSources(source.token_sources, tokenSourceContext(context.settings), (index, message) => report(['token_sources', index], message));
  const cors = source.cors && compileCors(source.cors, source, (p, message) => report(['cors', ...p], message));
  const forwarding = compileRouteForwarding(id, source, mode, context, report);
  const csrfOrigins = source.csrf_origins?.map((origin, index) => serializedOrigin(origin, (message) => report(['csrf_origins', index], message)));
  if (errors.errors.length > before || typeof path === 'string' || forwarding === null) return null;
  return {
    id,
    file,
    host,
    path,
    methods: source.methods ?? null,
    mode,
    issuers: source.issuers ?? [],
    audiences: source.audiences ?? [],
    app: source.app ?? null,
    scopes: source.scopes ?? [],
    ...(source.scopes_any && { scopesAny: source.scopes_any }),
    origin: forwarding.display,
    forwardAuthorization: source.forward_authorization ?? false,
    forward: forwarding.forward,
    ...(claims.length > 0 ? { claims } : {}),
    ...(source.cors_preflight ? { corsPreflight: true } : {}),
    ...(source.allow_in_path && source.allow_in_path.length > 0 ? { allowInPath: source.allow_in_path } : {}),
    // The route's own list for now; compilePolicies merges its issuers' where it has none (resolveTokenSources).
    ...(tokenSources ? { tokenSources } : {}),
    // Serialized as browsers send Origin (lower case, no default port), or an allowed origin would never match.
    ...(csrfOrigins ? { csrfOrigins } : {}),
    ...(cors && { cors }),
    ...(source.rate_limit && { rateLimit: compileRateLimit(source.rate_limit) }),
  };
}

/**
 * An origin as browsers send it in Origin (lower case, no default port), by the compiler's rule for a URL
 * (checkUrl): the schema's pattern lets "https://a.example:99999" and credentials through. Reported, and "",
 * when it is none (the route then fails to compile).
 */
function serializedOrigin(text: string, fail: (message: string) => void): string {
  const problem = checkUrl(text, 'csrf origin');
  if (problem === null) return new URL(text).origin;
  fail(problem);
  return '';
}

/** A public route reads no token: fields about tokens are refused there. Any other mode needs issuers and audiences. */
function checkTokenFields(source: RouteSource, mode: RouteMode, declaredIssuers: ReadonlyMap<string, string>, report: Report): void {
  if (mode === 'public') {
    for (const field of ['issuers', 'audiences', 'app', 'scopes', 'scopes_any', 'claims', 'cors', 'rate_limit'] as const) {
      if (source[field] !== undefined) report([field], `a public route checks no token, so "${field}" would never be enforced`);
    }
    if (source.cors_preflight !== undefined) report(['cors_preflight'], 'a public route forwards every request, preflights included; "cors_preflight" would change nothing');
    for (const field of ['token_sources', 'csrf_origins'] as const) {
      if (source[field] !== undefined) report([field], `a public route reads no token, so "${field}" would change nothing`);
    }
    return;
  }
  if (!source.issuers) report([], `a route in mode "${mode}" needs "issuers"`);
  if (!source.audiences) report([], `a route in mode "${mode}" needs "audiences" (RFC 8725 section 3.9)`);
  source.issuers?.forEach((issuerId, index) => {
    if (!declaredIssuers.has(issuerId)) report(['issuers', index], `no issuer "${issuerId}" is defined in policies/`);
  });
}

/** The route's claim rules; every path variable must be bound to a claim by one of them. */
function compileRouteClaims(source: RouteSource, variables: readonly PathVariable[], mode: RouteMode, report: Report): ClaimRule[] {
  const claims = compileClaimRules(source.claims, (index, message) => report(['claims', index], message), variables);
  // A variable no claim is bound to would let every tenant's token reach every tenant's paths.
  for (const variable of variables) {
    if (!claims.some((rule) => rule.test.kind === 'equals_path_variable' && rule.test.variable === variable.name)) {
      report(['path'], `the path variable {${variable.name}} is bound to no claim: add to "claims" a rule { "claim": "<claim>", "equals_path_variable": "${variable.name}" }${mode === 'public' ? ' (a public route checks no token: give it a literal path)' : ''}`);
    }
  }
  return claims;
}

/** Where the route forwards (its origin, settings' default_origin, or origin_by_claim's targets) and what it sends; null if it cannot. */
function compileRouteForwarding(id: string, source: RouteSource, mode: RouteMode, context: RouteContext, report: Report): { forward: RouteForwarding; display: string } | null {
  const byClaim = source.origin_by_claim && compileOriginByClaim(source, mode, report);
  const originSource = byClaim ? Object.values(source.origin_by_claim!.origins)[0] : (source.origin ?? context.defaultOrigin);
  if (originSource === undefined) report([], 'no "origin", and settings has no "default_origin"');
  const origin = byClaim === null || originSource === undefined ? null
    : byClaim ? { target: Object.values(byClaim.targets)[0]!, display: byClaim.display }
    : compileOrigin(originSource, checkUrl, (message, field) => report(source.origin === undefined ? [] : ['origin', ...(field ? [field] : [])], message));
  if (origin === null) return null;
  const forward = compileForwarding(source, origin, {
    routeId: id,
    app: source.app ?? null,
    verifiesTokens: mode !== 'public',
    prefix: context.settings.identityHeaderPrefix,
    assertionHeader: context.settings.assertion?.header ?? null,
  }, report);
  if (byClaim) forward.originByClaim = { claim: byClaim.claim, targets: byClaim.targets };
  return { forward, display: origin.display };
}

function compileRateLimit(source: NonNullable<RouteSource['rate_limit']>): CompiledRateLimit {
  return {
    binding: source.binding,
    key: (source.key ?? DEFAULT_RATE_LIMIT_KEY).map(toClaimPath),
    mode: source.mode ?? 'enforce',
    retryAfterSeconds: source.period_seconds ?? 60,
  };
}
