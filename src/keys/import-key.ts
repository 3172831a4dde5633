/**
 * The one place a JWK becomes a CryptoKey. Everything that verifies (the key layers, the public test vectors)
 * imports through importVerificationKey, so a key is judged and imported the same way everywhere; the
 * gateway's own assertion keys (src/forward/signing-keys.ts) go through importJwk too.
 *
 * WebCrypto directly, with the parameters of jose's importJWK: jose's importJWK looks the alg up in its tables
 * of every JWS and JWE algorithm, which brought 1.3 KiB gzip of jose into the Worker, whose budget is 32 KiB
 * (test/e2e/bundle-size.test.ts).
 */
import type { JWK } from 'jose';
import type { Algorithm, HmacAlgorithm } from '../config/types.ts';
import { keyAllowsAlgorithm } from './validate-jwk.ts';

export type AsymmetricAlgorithm = Exclude<Algorithm, HmacAlgorithm>;

/** How WebCrypto imports a key for each JWS alg (RFC 7518 section 3): the hash of RSA keys and the curve of EC keys are bound here. */
const IMPORT_PARAMS: Record<AsymmetricAlgorithm, SubtleCryptoImportKeyAlgorithm> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  RS384: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  RS512: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  PS384: { name: 'RSA-PSS', hash: 'SHA-384' },
  PS512: { name: 'RSA-PSS', hash: 'SHA-512' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  EdDSA: { name: 'Ed25519' },
};

/**
 * A non-extractable CryptoKey for `alg`, as jose's importJWK imports it: key_ops are the key's usages when
 * present (else verify, or sign for a private key); alg and use are left out of what WebCrypto sees (they
 * were judged before: keyAllowsAlgorithm, or the signing key's type). The caller has checked that the key's
 * type fits `alg`. Throws TypeError, or the runtime's DOMException; test/unit/keys/import-key.test.ts holds
 * it to jose's answers.
 */
export async function importJwk(jwk: JWK, alg: AsymmetricAlgorithm): Promise<CryptoKey> {
  const params = IMPORT_PARAMS[alg];
  if (params === undefined) throw new TypeError(`no asymmetric key imports for ${alg}`);
  const { alg: _alg, use: _use, ...members } = jwk;
  // key_ops stay in what WebCrypto sees: it refuses duplicates, and usages they do not list (RFC 7517 section 4.3).
  return crypto.subtle.importKey('jwk', { ...members, ext: false } as JsonWebKey, params, false, jwk.key_ops ?? [jwk.d ? 'sign' : 'verify']);
}

/** Throws when the key cannot verify `alg` or the runtime refuses it. */
export async function importVerificationKey(jwk: JWK, alg: Algorithm): Promise<CryptoKey> {
  if (!keyAllowsAlgorithm(jwk, alg)) throw new TypeError(`key does not fit ${alg}`);
  return importJwk(jwk, alg as AsymmetricAlgorithm);
}
