/**
 * What makes a JWK acceptable as a verification key. Used for inline policy keys at compile time and for
 * every JWKS response at runtime, so both refuse exactly the same keys.
 */
import type { JWK } from 'jose';
import type { Algorithm } from '../config/types.ts';
import { MAX_JWKS_KEYS, MAX_KID_LENGTH, MIN_RSA_MODULUS_BITS, REQUIRED_RSA_EXPONENT } from '../config/constants.ts';
import { base64UrlToBytes, isBase64UrlText } from '../token/base64url.ts';
import { boundString } from '../log/bound-string.ts';
import { hasRocaFingerprint } from './roca.ts';

/** Members that only a private or symmetric key has: their presence means the issuer leaks secrets, or the set is hostile. */
export const SECRET_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A member of the issuer's document, as a reason shows it: bounded like every logged value (a hostile set may hold KiB-long strings). */
const shown = (value: unknown) => boundString(String(value));

const CURVE_OF_ALG: Partial<Record<Algorithm, string>> = { ES256: 'P-256', ES384: 'P-384', EdDSA: 'Ed25519' };

const RSA_ALGORITHMS: readonly Algorithm[] = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
const ES256_ONLY: readonly Algorithm[] = Object.freeze(['ES256']);
const ES384_ONLY: readonly Algorithm[] = Object.freeze(['ES384']);
const EDDSA_ONLY: readonly Algorithm[] = Object.freeze(['EdDSA']);
const NONE: readonly Algorithm[] = Object.freeze([]);

/** Which algorithms a key can verify, from its type and curve alone (shared frozen lists: a warm key lookup asks on every request). */
export function algorithmsForKey(jwk: JWK): readonly Algorithm[] {
  switch (jwk.kty) {
    case 'RSA':
      return RSA_ALGORITHMS;
    case 'EC':
      return jwk.crv === 'P-256' ? ES256_ONLY : jwk.crv === 'P-384' ? ES384_ONLY : NONE;
    case 'OKP':
      return jwk.crv === 'Ed25519' ? EDDSA_ONLY : NONE;
    default:
      return NONE;
  }
}

/** The key may verify `alg` if its type fits and, when it names an alg, it names this one (RFC 8725 section 3.1). */
export function keyAllowsAlgorithm(jwk: JWK, alg: Algorithm): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg && !(alg === 'EdDSA' && jwk.alg === 'Ed25519')) return false;
  if (CURVE_OF_ALG[alg] && jwk.crv !== CURVE_OF_ALG[alg]) return false;
  return algorithmsForKey(jwk).includes(alg);
}

function rsaModulusBits(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i) * 8 - Math.clz32(bytes[i]!) + 24;
}

export type JwkVerdict =
  /** Usable for signature verification. */
  | { kind: 'accepted' }
  /** Not a signature key (encryption key, unknown type or curve): skipped, as issuers such as Keycloak publish both. */
  | { kind: 'skipped'; reason: string }
  /** Dangerous or broken: the whole set it came in is refused. */
  | { kind: 'refused'; reason: string };

export function judgeJwk(value: unknown): JwkVerdict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'refused', reason: 'key is not an object' };
  const jwk = value as JWK;
  for (const member of SECRET_MEMBERS) {
    if (member in jwk) return { kind: 'refused', reason: `key carries private or secret member "${member}"` };
  }
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || jwk.kid.length > MAX_KID_LENGTH)) {
    return { kind: 'refused', reason: 'kid is not a string of 1..256 characters' };
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') return { kind: 'skipped', reason: `use is "${shown(jwk.use)}", not "sig"` };
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops)) return { kind: 'refused', reason: 'key_ops is not an array' };
    if (!jwk.key_ops.includes('verify')) return { kind: 'skipped', reason: 'key_ops does not include "verify"' };
  }
  const supported = algorithmsForKey(jwk);
  if (supported.length === 0) return { kind: 'skipped', reason: `unsupported key type ${shown(jwk.kty)}/${shown(jwk.crv)}` };
  if (jwk.alg !== undefined && !supported.some((alg) => keyAllowsAlgorithm(jwk, alg))) {
    return { kind: 'refused', reason: `alg "${shown(jwk.alg)}" does not fit a ${jwk.kty} key` };
  }
  switch (jwk.kty) {
    case 'RSA': {
      if (!isBase64UrlText(jwk.n) || !isBase64UrlText(jwk.e)) return { kind: 'refused', reason: 'RSA key without n and e' };
      if (jwk.e !== REQUIRED_RSA_EXPONENT) return { kind: 'refused', reason: 'RSA exponent is not 65537' };
      const modulus = base64UrlToBytes(jwk.n);
      if (!modulus || rsaModulusBits(modulus) < MIN_RSA_MODULUS_BITS) return { kind: 'refused', reason: `RSA modulus under ${MIN_RSA_MODULUS_BITS} bits` };
      if (hasRocaFingerprint(modulus)) return { kind: 'refused', reason: 'RSA modulus has the ROCA fingerprint (CVE-2017-15361)' };
      return { kind: 'accepted' };
    }
    case 'EC':
      if (!isBase64UrlText(jwk.x) || !isBase64UrlText(jwk.y)) return { kind: 'refused', reason: 'EC key without x and y' };
      return { kind: 'accepted' };
    default:
      if (!isBase64UrlText(jwk.x)) return { kind: 'refused', reason: 'OKP key without x' };
      return { kind: 'accepted' };
  }
}

export type JwksVerdict = { ok: true; keys: JWK[]; skipped: string[] } | { ok: false; reason: string };

/** Judges a whole key set: one dangerous key, a duplicate kid or no usable key refuses it all. */
export function judgeJwks(value: unknown): JwksVerdict {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return { ok: false, reason: 'no "keys" array' };
  if (keys.length > MAX_JWKS_KEYS) return { ok: false, reason: `more than ${MAX_JWKS_KEYS} keys` };
  const accepted: JWK[] = [];
  const skipped: string[] = [];
  const kids = new Set<string>();
  for (const [index, key] of keys.entries()) {
    const verdict = judgeJwk(key);
    if (verdict.kind === 'refused') return { ok: false, reason: `keys[${index}]: ${verdict.reason}` };
    const kid = (key as JWK).kid;
    if (kid !== undefined) {
      if (kids.has(kid)) return { ok: false, reason: `keys[${index}]: duplicate kid` };
      kids.add(kid);
    }
    if (verdict.kind === 'skipped') skipped.push(`keys[${index}]: ${verdict.reason}`);
    else accepted.push(key as JWK);
  }
  if (accepted.length === 0) return { ok: false, reason: 'no usable signature key' };
  return { ok: true, keys: accepted, skipped };
}
