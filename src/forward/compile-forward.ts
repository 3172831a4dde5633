/**
 * The forwarding part of a route policy -> RouteForwarding, at compile time: origin form, timeout, claim
 * headers and the assertion's audience; and the assertion settings. Called by src/config/compile-routes.ts and compile-settings.ts;
 * errors go to its error list.
 */
import {
  DEFAULT_ASSERTION_TTL_SECONDS,
  DEFAULT_GATEWAY_JWKS_PATH,
  DEFAULT_ORIGIN_TIMEOUT_MS,
} from '../config/constants.ts';
import type { Report } from '../config/policy-errors.ts';
import type { ClaimHeader, CompiledAssertion, OriginTarget, RouteForwarding } from '../config/types.ts';
import { STANDARD_IDENTITY_HEADERS } from './identity-headers.ts';
import { assertionHeaderProblem } from './reserved-headers.ts';

const DEFAULT_ASSERTION_ISSUER = 'edge-jwt-gateway';

export type OriginSource =
  | string
  | { url: string; strip_path_prefix?: string }
  | { same_url: true }
  | { service: string; strip_path_prefix?: string };

type ClaimPathSource = string | string[];
export interface ForwardingSource {
  origin?: OriginSource;
  origin_timeout_ms?: number;
  claim_headers?: Record<string, ClaimPathSource | { claim: ClaimPathSource; format?: 'join' | 'json' }>;
  assertion_audience?: string;
}

export interface AssertionSource {
  header?: string;
  issuer?: string;
  mode?: 'signed' | 'hmac';
  jwks_path?: string;
  ttl_seconds?: number;
  reuse_seconds?: number;
}

const toPath = (claim: ClaimPathSource) => (typeof claim === 'string' ? [claim] : claim);

/** The gateway sets the standard identity headers on every forwarded request: no other header of its own may take their names. */
function identityHeaderProblem(header: string, prefix: string): string | null {
  const clashes = STANDARD_IDENTITY_HEADERS.some((name) => header === `${prefix}${name}`);
  return clashes ? `"${header}" is one of the standard identity headers; choose another name` : null;
}

/** checkUrl is the compiler's URL rule (no query, fragment or credentials), shared with jwks_uri. */
export function compileOrigin(
  source: OriginSource,
  checkUrl: (value: string, what: string) => string | null,
  report: (message: string, field?: string) => void,
): { target: OriginTarget; display: string } | null {
  if (typeof source === 'string' || 'url' in source) {
    const url = typeof source === 'string' ? source : source.url;
    const problem = checkUrl(url, 'origin');
    if (problem) {
      report(problem, typeof source === 'string' ? undefined : 'url');
      return null;
    }
    const strip = typeof source === 'string' ? null : (source.strip_path_prefix ?? null);
    return { target: { kind: 'url', url, stripPathPrefix: strip }, display: url };
  }
  if ('same_url' in source) return { target: { kind: 'same-url' }, display: 'same-url' };
  return { target: { kind: 'service', binding: source.service, stripPathPrefix: source.strip_path_prefix ?? null }, display: `service:${source.service}` };
}

export interface ForwardingContext {
  routeId: string;
  app: string | null;
  /** A public route verifies no token: claim headers and an assertion audience would never be used. */
  verifiesTokens: boolean;
  prefix: string;
  assertionHeader: string | null;
}

function compileClaimHeaders(source: ForwardingSource['claim_headers'], context: ForwardingContext, report: Report): ClaimHeader[] {
  const out: ClaimHeader[] = [];
  for (const [name, spec] of Object.entries(source ?? {})) {
    const header = `${context.prefix}${name}`;
    const identityClash = identityHeaderProblem(header, context.prefix);
    if (identityClash) {
      report(['claim_headers', name], identityClash);
    } else if (header === context.assertionHeader) {
      report(['claim_headers', name], `"${header}" is the assertion header`);
    }
    const claim = typeof spec === 'object' && !Array.isArray(spec) ? spec.claim : spec;
    const format = typeof spec === 'object' && !Array.isArray(spec) ? (spec.format ?? 'join') : 'join';
    out.push({ header, claim: toPath(claim), format });
  }
  return out;
}

export function compileForwarding(
  source: ForwardingSource,
  origin: { target: OriginTarget },
  context: ForwardingContext,
  report: Report,
): RouteForwarding {
  if (!context.verifiesTokens) {
    for (const field of ['claim_headers', 'assertion_audience'] as const) {
      if (source[field] !== undefined) report([field], `a public route verifies no token, so "${field}" would never be used`);
    }
  }
  return {
    origin: origin.target,
    timeoutMs: source.origin_timeout_ms ?? DEFAULT_ORIGIN_TIMEOUT_MS,
    claimHeaders: compileClaimHeaders(source.claim_headers, context, report),
    assertionAudience: source.assertion_audience ?? context.app ?? context.routeId,
  };
}

export interface AssertionContext {
  prefix: string;
  requestIdHeader: string | null;
}

/**
 * The gateway removes the client's header of the assertion's name and sends the assertion in it: a name the
 * origin reads for something else (Host, Cookie, a standard identity header, the request id) is refused.
 */
export function compileAssertion(source: AssertionSource | undefined, context: AssertionContext, report: Report): CompiledAssertion | null {
  if (source === undefined) return null;
  // "x-verified-assertion" with the default prefix: inside the namespace, so stripping covers it twice over.
  const header = source.header ?? `${context.prefix}assertion`;
  const problem =
    assertionHeaderProblem(header) ??
    identityHeaderProblem(header, context.prefix) ??
    (header === context.requestIdHeader ? `"${header}" is also the request_id_header: the origin would get the assertion in place of the client's request id` : null);
  if (problem) report(['header'], problem);
  const ttlSeconds = source.ttl_seconds ?? DEFAULT_ASSERTION_TTL_SECONDS;
  const reuseSeconds = source.reuse_seconds ?? Math.floor(ttlSeconds / 2);
  if (reuseSeconds * 2 > ttlSeconds) {
    report(['reuse_seconds'], `${reuseSeconds} is more than half of ttl_seconds (${ttlSeconds}): a reused assertion must reach the origin with at least half its lifetime left`);
  }
  return {
    header,
    issuer: source.issuer ?? DEFAULT_ASSERTION_ISSUER,
    mode: source.mode ?? 'signed',
    jwksPath: source.jwks_path ?? DEFAULT_GATEWAY_JWKS_PATH,
    ttlSeconds,
    reuseSeconds,
  };
}
