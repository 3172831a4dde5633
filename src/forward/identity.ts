/**
 * Everything the gateway adds for the origin: the standard identity headers, the route's claim headers
 * and, when the gateway signs, the assertion over them. Values come only from verified claims.
 */
import type { CompiledAssertion, CompiledIssuer, CompiledRoute } from '../config/types.ts';
import type { Env } from '../env.ts';
import type { RequestBinding } from '../origin/binding.ts';
import { grantedScopes, readClaim, type Claims } from '../verify/claims.ts';
import { mintAssertion } from './assertion.ts';
import { claimHeaders } from './claim-headers.ts';
import { identityHeaders } from './identity-headers.ts';
import { signingSetup } from './signing-keys.ts';

export interface IdentityRequest {
  route: CompiledRoute;
  prefix: string;
  assertion: CompiledAssertion | null;
  requestId: string;
  verified: { claims: Claims; issuer: CompiledIssuer } | null;
  /** What the origin will receive, for the assertion's binding. */
  target: RequestBinding;
  env: Env;
  now: number;
}

export type IdentityResult =
  | { ok: true; headers: [string, string][]; omitted: string[] }
  /** The gateway cannot sign: a deploy problem (a missing or broken secret), never the client's. */
  | { ok: false; reason: string };

/** The forwarded claims with their JSON types, for the assertion body. */
function assertedIdentity(claims: Claims, issuer: CompiledIssuer, routeId: string, mapped: Record<string, unknown>): Record<string, unknown> {
  const scopes = [...grantedScopes(claims)];
  const app = readClaim(claims, issuer.appClaim);
  return {
    idp: claims.iss,
    ...(app === undefined ? {} : { app }),
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    token_exp: claims.exp,
    route: routeId,
    ...(Object.keys(mapped).length > 0 ? { claims: mapped } : {}),
  };
}

export async function identityFor(input: IdentityRequest): Promise<IdentityResult> {
  const { route, prefix, verified } = input;
  const { headers, omitted } = identityHeaders(prefix, {
    routeId: route.id,
    requestId: input.requestId,
    verified: verified && { claims: verified.claims, appClaim: verified.issuer.appClaim },
  });
  if (verified === null) return { ok: true, headers, omitted };
  const mapped = claimHeaders(verified.claims, route.forward.claimHeaders);
  headers.push(...mapped.headers);
  omitted.push(...mapped.omitted);
  if (input.assertion === null) return { ok: true, headers, omitted };

  const keys = await signingSetup(input.assertion, input.env);
  if (!keys.ok) return { ok: false, reason: `assertion: ${keys.reason}` };
  const assertion = await mintAssertion(
    {
      settings: input.assertion,
      audience: route.forward.assertionAudience,
      subject: verified.claims.sub as string,
      requestId: input.requestId,
      request: input.target,
      identityHeaders: headers,
      identity: assertedIdentity(verified.claims, verified.issuer, route.id, mapped.values),
      now: input.now,
    },
    keys.setup.signer,
  );
  headers.push([input.assertion.header, assertion]);
  return { ok: true, headers, omitted };
}
