/**
 * The one place a JWK becomes a verification CryptoKey. Everything that verifies (the key layers, the
 * public test vectors) imports through here, so a key is judged and imported the same way everywhere.
 */
import { importJWK, type JWK } from 'jose';
import type { Algorithm } from '../config/types.ts';
import { keyAllowsAlgorithm } from './validate-jwk.ts';

/** Throws when the key cannot verify `alg` or the runtime refuses it (jose throws TypeError for odd keys). */
export async function importVerificationKey(jwk: JWK, alg: Algorithm): Promise<CryptoKey> {
  if (!keyAllowsAlgorithm(jwk, alg)) throw new TypeError(`key does not fit ${alg}`);
  const key = await importJWK({ ...jwk, ext: false }, alg);
  if (!(key instanceof CryptoKey)) throw new TypeError('not an asymmetric key');
  return key;
}
