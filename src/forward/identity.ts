/**
 * Everything the gateway adds for the origin: the standard identity headers, the route's claim headers
 * and, when the gateway signs, the assertion over them. Values come only from verified claims.
 */
import type { CompiledAssertion, CompiledIssuer, CompiledRoute } from '../config/types.ts';
import type { Env } from '../env.ts';
import type { ForwardedRequest } from '../origin/binding.ts';
import { grantedScopes, readClaim, subjectOf, type Claims } from '../verify/claims.ts';
import { mintAssertion } from './assertion.ts';
import { reuseKey, textBytes, type AssertionCache } from './assertion-cache.ts';
import { claimHeaders } from './claim-headers.ts';
import { identityHeaders, requestIdHeader } from './identity-headers.ts';
import { signingSetup } from './signing-keys.ts';

export interface IdentityRequest {
  route: CompiledRoute;
  prefix: string;
  assertion: CompiledAssertion | null;
  requestId: string;
  verified: { claims: Claims; issuer: CompiledIssuer } | null;
  /** The token's text when a minted assertion may be kept for reuse (a token-cache hit), else null: with route and target, what it is kept by. */
  token: string | null;
  /** What the origin will receive (method, Host, path, query), for the assertion's binding. */
  target: ForwardedRequest;
  /** Assertions kept for reuse (settings.assertion.reuse_seconds), per isolate. */
  assertions: AssertionCache;
  env: Env;
  now: number;
}

export type IdentityResult =
  | {
      ok: true;
      headers: readonly (readonly [string, string])[];
      omitted: readonly string[];
      /** Whether an assertion was sent, and whether it was minted for this request or reused: the record's `assertion`. */
      assertion: 'minted' | 'reused' | null;
    }
  /** The gateway cannot sign: a deploy problem (a missing or broken secret), never the client's. */
  | { ok: false; reason: string };

/** The forwarded claims with their JSON types, for the assertion body. */
function assertedIdentity(claims: Claims, issuer: CompiledIssuer, routeId: string, mapped: Record<string, unknown>): Record<string, unknown> {
  const scopes = [...grantedScopes(claims)];
  const app = readClaim(claims, issuer.appClaim);
  return {
    idp: claims.iss,
    ...(subjectOf(claims, issuer.serviceSubject)?.kind === 'service' ? { sub_kind: 'service' } : {}),
    ...(app === undefined ? {} : { app }),
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    token_exp: claims.exp,
    route: routeId,
    ...(Object.keys(mapped).length > 0 ? { claims: mapped } : {}),
  };
}

/**
 * The standard identity headers and the route's claim headers, with the claim values typed for the
 * assertion; `requestId` null leaves it out.
 */
function plainHeaders({ route, prefix, verified }: Pick<IdentityRequest, 'route' | 'prefix' | 'verified'>, requestId: string | null) {
  const result = identityHeaders(prefix, { routeId: route.id, requestId, verified: verified && { claims: verified.claims, appClaim: verified.issuer.appClaim, serviceSubject: verified.issuer.serviceSubject } });
  if (verified === null) return { ...result, values: {} };
  const mapped = claimHeaders(verified.claims, route.forward.claimHeaders);
  result.headers.push(...mapped.headers);
  result.omitted.push(...mapped.omitted);
  return { ...result, values: mapped.values };
}

export async function identityFor(input: IdentityRequest): Promise<IdentityResult> {
  const { route, prefix, verified, assertion } = input;
  if (verified === null || assertion === null) {
    const { headers, omitted } = plainHeaders(input, input.requestId);
    return { ok: true, headers, omitted, assertion: null };
  }

  const pending = signingSetup(assertion, input.env);
  const keys = pending instanceof Promise ? await pending : pending;
  if (!keys.ok) return { ok: false, reason: `assertion: ${keys.reason}` };
  const { signer } = keys.setup;
  const reuse = assertion.reuseSeconds > 0;
  // The one header of the gateway's own that differs on every request: covered only by an assertion minted
  // for this request alone (reuse_seconds 0); a reused one serves requests with other ids.
  const requestId = reuse ? requestIdHeader(prefix, input.requestId) : { headers: [], omitted: [] };
  const key = reuse && input.token !== null ? reuseKey(route.id, input.target, input.token) : null;
  const kept = key === null ? undefined : input.assertions.get(key);
  if (kept !== undefined && kept.signer === signer && input.now >= kept.mintedAt && input.now < kept.mintedAt + assertion.reuseSeconds) {
    return { ok: true, headers: [...requestId.headers, ...kept.headers], omitted: [...requestId.omitted, ...kept.omitted], assertion: 'reused' };
  }

  const { headers, omitted, values } = plainHeaders(input, reuse ? null : input.requestId);
  const jws = await mintAssertion(
    {
      settings: assertion,
      audience: route.forward.assertionAudience,
      subject: subjectOf(verified.claims, verified.issuer.serviceSubject)!.subject,
      requestId: input.requestId,
      request: input.target,
      // A NumericDate: checkClaims refuses any other exp.
      tokenExp: verified.claims.exp as number,
      identityHeaders: headers,
      identity: assertedIdentity(verified.claims, verified.issuer, route.id, values),
      now: input.now,
    },
    signer,
  );
  headers.push([assertion.header, jws]);
  if (key !== null) {
    // Frozen: every request that reuses the entry shares these arrays.
    for (const header of headers) Object.freeze(header);
    input.assertions.set(key, Object.freeze({ headers: Object.freeze(headers), omitted: Object.freeze(omitted), signer, mintedAt: input.now, bytes: textBytes(headers, omitted) }));
  }
  return { ok: true, headers: [...requestId.headers, ...headers], omitted: [...requestId.omitted, ...omitted], assertion: 'minted' };
}
