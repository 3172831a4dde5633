/**
 * The signed assertion: a compact JWS for each forwarded request that carries a verified identity (reused
 * for the identical requests of one token within reuse_seconds: assertion-cache.ts).
 * Bound to the request the origin receives (method, Host, path and a SHA-256 of the query) and to the plain
 * identity headers beside it (their names and a SHA-256 over names and values), so a captured assertion is
 * worthless on another path, query or method, and no covered identity header can be added, removed or
 * changed without the origin noticing. The request id header is covered only when assertions are not
 * reused (reuse_seconds 0). It never outlives the token it vouches for: exp is at most the token's exp.
 */
import type { CompiledAssertion } from '../config/types.ts';
import { ASSERTION_TYP, base64UrlEncode, headerBinding, requestBinding, type ForwardedRequest } from '../origin/binding.ts';
import { WEBCRYPTO_PARAMS } from '../verify/signature.ts';
import type { AssertionSigner } from './signing-keys.ts';

export interface AssertionInput {
  settings: CompiledAssertion;
  audience: string;
  subject: string;
  requestId: string;
  /** What the origin receives: method, Host, path and the query as forwarded (bound as its digest). */
  request: ForwardedRequest;
  /** The verified token's exp: the assertion expires no later. */
  tokenExp: number;
  /** The identity headers it covers, as sent: every one but the assertion header, and but the request id when reused. */
  identityHeaders: readonly (readonly [string, string])[];
  /** Forwarded claims with their JSON types: the standard set and the route's claim headers. */
  identity: Record<string, unknown>;
  now: number;
}


const utf8 = new TextEncoder();

/** The encoded protected header of each signer: the same for every assertion it signs. */
const encodedHeaders = new WeakMap<AssertionSigner, string>();

function encodedHeaderOf(signer: AssertionSigner): string {
  let encoded = encodedHeaders.get(signer);
  if (encoded === undefined) {
    const header = { alg: signer.alg, typ: ASSERTION_TYP, ...(signer.kid === undefined ? {} : { kid: signer.kid }) };
    encodedHeaders.set(signer, (encoded = base64UrlEncode(JSON.stringify(header))));
  }
  return encoded;
}

/**
 * A compact JWS (RFC 7515) written directly: one JSON.stringify, one WebCrypto sign. jose's SignJWT gives
 * the same bytes (same member order) at about twice the CPU, on every forwarded request; the origin side
 * and the tests verify these assertions with jose.
 */
export async function mintAssertion(input: AssertionInput, signer: AssertionSigner): Promise<string> {
  const payload = {
    ...input.identity,
    req: await requestBinding(input.request),
    hdr: await headerBinding(input.identityHeaders),
    // The registered claims last, so nothing in the identity can stand in for them.
    iss: input.settings.issuer,
    aud: input.audience,
    sub: input.subject,
    iat: input.now,
    // Never past the token's own exp: a token the gateway still accepts inside its clock skew gets an
    // assertion that is already expired, so the origin refuses what the gateway's skew let through.
    exp: Math.min(input.now + input.settings.ttlSeconds, Math.floor(input.tokenExp)),
    jti: input.requestId,
  };
  // The runtime's native encoder where there is one, as the header binding uses.
  const signingInput = `${encodedHeaderOf(signer)}.${base64UrlEncode(JSON.stringify(payload))}`;
  const signature = await crypto.subtle.sign(WEBCRYPTO_PARAMS[signer.alg], signer.key, utf8.encode(signingInput));
  return `${signingInput}.${base64UrlEncode(new Uint8Array(signature))}`;
}
