/**
 * The demo issuer's signing keys: made on first use and kept in .demo/ (git-ignored) so that `npm start`
 * and `npm run token` agree. Demo keys only: a production issuer's keys never live in this repository.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

export const DEMO_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type DemoAlgorithm = (typeof DEMO_ALGORITHMS)[number];

const KEY_FILE = join(import.meta.dirname, '..', '..', '.demo', 'issuer-keys.json');

export async function demoPrivateJwks(): Promise<Record<DemoAlgorithm, JWK>> {
  if (existsSync(KEY_FILE)) return JSON.parse(readFileSync(KEY_FILE, 'utf8'));
  const keys = {} as Record<DemoAlgorithm, JWK>;
  for (const alg of DEMO_ALGORITHMS) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    keys[alg] = { ...(await exportJWK(privateKey)), kid: `demo-${alg.toLowerCase()}`, alg, use: 'sig' };
  }
  mkdirSync(join(KEY_FILE, '..'), { recursive: true });
  writeFileSync(KEY_FILE, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

export function publicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return pub;
}

export async function demoSigningKey(alg: DemoAlgorithm) {
  const jwk = (await demoPrivateJwks())[alg];
  return { kid: jwk.kid!, key: await importJWK(jwk, alg) };
}
