/** Keys and tokens made by the tests themselves, inside workerd, with jose. */
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { Algorithm } from '../../src/config/types.ts';

export interface TestKey {
  alg: Algorithm;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(alg: Algorithm = 'RS256', kid = `test-${alg.toLowerCase()}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export const jwksOf = (...keys: TestKey[]) => ({ keys: keys.map((k) => k.publicJwk) });

export interface SignOptions {
  header?: Record<string, unknown>;
}

/** Signs exactly the claims given (no defaults added), with the key's alg and kid unless the header overrides them. */
export async function sign(key: TestKey, claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...options.header } as never).sign(key.privateKey);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims a demo-policy route accepts, valid for five minutes from now; override any of them. */
export function demoClaims(overrides: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return { iss: 'http://127.0.0.1:8788', aud: 'https://api.example.test', sub: 'demo-user', iat: now, exp: now + 300, ...overrides };
}
