/**
 * The forwarding part of a route policy -> RouteForwarding, at compile time: origin form, timeout, claim
 * headers and the assertion's audience. Called by src/config/compile.ts; errors go to its error list.
 */
import {
  DEFAULT_ASSERTION_TTL_SECONDS,
  DEFAULT_GATEWAY_JWKS_PATH,
  DEFAULT_ORIGIN_TIMEOUT_MS,
} from '../config/constants.ts';
import type { ClaimHeader, CompiledAssertion, OriginTarget, RouteForwarding } from '../config/types.ts';
import { STANDARD_IDENTITY_HEADERS } from './identity-headers.ts';

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
}

/** Reports one problem at a JSON path relative to the route (or settings). */
export type Report = (path: (string | number)[], message: string) => void;

const toPath = (claim: ClaimPathSource) => (typeof claim === 'string' ? [claim] : claim);

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
    if ((STANDARD_IDENTITY_HEADERS as readonly string[]).includes(name)) {
      report(['claim_headers', name], `"${header}" is one of the standard identity headers; choose another name`);
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

export function compileAssertion(source: AssertionSource | undefined, prefix: string): CompiledAssertion | null {
  if (source === undefined) return null;
  return {
    // "x-verified-assertion" with the default prefix: inside the namespace, so stripping covers it twice over.
    header: source.header ?? `${prefix}assertion`,
    issuer: source.issuer ?? DEFAULT_ASSERTION_ISSUER,
    mode: source.mode ?? 'signed',
    jwksPath: source.jwks_path ?? DEFAULT_GATEWAY_JWKS_PATH,
    ttlSeconds: source.ttl_seconds ?? DEFAULT_ASSERTION_TTL_SECONDS,
  };
}
