/**
 * What a route's mode does with a request. Pure: the gateway asks `admit` before any token work and
 * `decide` after it, and does what the answer says.
 *
 *   enforce (default)  a valid token is required; anything else is denied.
 *   report-only        the request is forwarded whatever the token; what would have been denied is logged
 *                      (outcome report_only, with the findings). keys_unavailable too: report-only never
 *                      blocks, that is its point. A valid token is forwarded with its identity, as in enforce.
 *   optional           no bearer token -> forwarded anonymous (no identity headers); a token that is present
 *                      but fails any check is denied exactly as in enforce.
 *   public             no token is looked at.
 * CORS preflight pass-through (`cors_preflight: true`) lets OPTIONS requests that carry Origin and
 * Access-Control-Request-Method through without a token, on any mode. Client-sent identity headers are
 * stripped in every case by the gateway, from the copy of the request it forwards (after the decision).
 */
import type { CompiledIssuer, CompiledRoute } from '../config/types.ts';
import type { Finding } from '../findings.ts';
import type { Authentication } from '../verify/authenticate.ts';
import type { Claims } from '../verify/claims.ts';

/** preflight: forwarded to the origin without a token (cors_preflight); answer_preflight: the gateway answers it (cors.answer_preflight). */
export type Admission = 'authenticate' | 'public' | 'preflight' | 'answer_preflight';

/** Fetch-standard CORS preflight: OPTIONS with Origin and Access-Control-Request-Method (browsers never add credentials). */
export function isCorsPreflight(method: string, headers: Headers): boolean {
  return method === 'OPTIONS' && headers.has('origin') && headers.has('access-control-request-method');
}

export function admit(route: CompiledRoute, method: string, headers: Headers): Admission {
  if (route.mode === 'public') return 'public';
  if (route.corsPreflight === true && isCorsPreflight(method, headers)) return 'preflight';
  if (route.cors?.answerPreflight === true && isCorsPreflight(method, headers)) return 'answer_preflight';
  return 'authenticate';
}

export type Decision =
  | { kind: 'deny'; findings: Finding[] }
  | {
      kind: 'forward';
      outcome: 'allowed' | 'anonymous' | 'report_only';
      /** Findings that did not block (report-only); empty otherwise. */
      findings: Finding[];
      verified: { claims: Claims; issuer: CompiledIssuer } | null;
    };

export function decide(route: CompiledRoute, authentication: Authentication): Decision {
  if (authentication.ok) {
    return { kind: 'forward', outcome: 'allowed', findings: [], verified: { claims: authentication.claims, issuer: authentication.issuer } };
  }
  const { findings } = authentication;
  if (route.mode === 'report-only') return { kind: 'forward', outcome: 'report_only', findings, verified: null };
  if (route.mode === 'optional' && findings.length === 1 && findings[0]!.code === 'token_missing') {
    return { kind: 'forward', outcome: 'anonymous', findings: [], verified: null };
  }
  return { kind: 'deny', findings };
}
