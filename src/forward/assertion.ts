/**
 * The signed assertion: one compact JWS per forwarded request that carries a verified identity.
 * Bound to the request the origin receives (method, Host, path) and to the plain identity headers beside
 * it (their names and a SHA-256 over names and values), so a captured assertion is worthless on another
 * path or method, and no identity header can be added, removed or changed without the origin noticing.
 */
import { SignJWT } from 'jose';
import type { CompiledAssertion } from '../config/types.ts';
import { ASSERTION_TYP, headerBinding, type RequestBinding } from '../origin/binding.ts';
import type { AssertionSigner } from './signing-keys.ts';

export interface AssertionInput {
  settings: CompiledAssertion;
  audience: string;
  subject: string;
  requestId: string;
  request: RequestBinding;
  /** Every identity header the origin will get (the assertion header excluded), as sent. */
  identityHeaders: readonly (readonly [string, string])[];
  /** Forwarded claims with their JSON types: the standard set and the route's claim headers. */
  identity: Record<string, unknown>;
  now: number;
}

export async function mintAssertion(input: AssertionInput, signer: AssertionSigner): Promise<string> {
  const payload = {
    ...input.identity,
    req: input.request,
    hdr: await headerBinding(input.identityHeaders),
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: signer.alg, typ: ASSERTION_TYP, ...(signer.kid === undefined ? {} : { kid: signer.kid }) })
    .setIssuer(input.settings.issuer)
    .setAudience(input.audience)
    .setSubject(input.subject)
    .setIssuedAt(input.now)
    .setExpirationTime(input.now + input.settings.ttlSeconds)
    .setJti(input.requestId)
    .sign(signer.key);
}
