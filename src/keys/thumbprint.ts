/**
 * The JWK thumbprint (RFC 7638, SHA-256) of an EC or OKP public key: the kid of a gateway signing key that
 * names none. jose's calculateJwkThumbprint gives the same text; its key export and type checks for
 * CryptoKey and KeyObject inputs are not needed for a JWK and would ship in the Worker.
 */
import type { JWK } from 'jose';
import { base64UrlEncode } from '../token/base64url.ts';

/** The required members of each key type, in the lexicographic order the thumbprint's JSON needs. */
const REQUIRED_MEMBERS: Partial<Record<string, readonly (keyof JWK)[]>> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] };

/** Throws TypeError for another key type or a required member that is not a non-empty string (as jose does). */
export async function jwkThumbprint(jwk: JWK): Promise<string> {
  const members = REQUIRED_MEMBERS[jwk.kty!];
  if (members === undefined) throw new TypeError('"kty" (Key Type) Parameter missing or unsupported');
  const required: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string' || value === '') throw new TypeError(`"${member}" Parameter missing or invalid`);
    required[member] = value;
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(required)));
  return base64UrlEncode(new Uint8Array(digest));
}
