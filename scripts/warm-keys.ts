/**
 * `node scripts/warm-keys.ts`: makes the throwaway keys and token of src/warm.ts's synthetic request (a fresh
 * 2048-bit RSA key, an RS256 token it signs, an Ed25519 signing key) and prints them as the constants to
 * paste there. Only for changing the synthetic issuer, route or claims: the private RSA key is printed nowhere
 * and forgotten. The claims must satisfy src/warm.ts's ISSUER and ROUTE; test/unit/warm.test.ts fails if not.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

const WARM_NOW = 1_800_000_000;
const claims = {
  iss: 'https://issuer.warm.invalid',
  sub: 'warm',
  aud: 'https://api.warm.invalid',
  app_id: 'warm',
  scope: 'read write',
  roles: ['reader'],
  token_use: 'access',
  iat: WARM_NOW,
  exp: WARM_NOW + 600,
};
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'warm' }).sign(rsa.privateKey);
const { crv, d, x, kty } = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
console.log(`const WARM_RSA_N =\n  '${rsa.publicKey.export({ format: 'jwk' }).n}';`);
console.log(`const WARM_TOKEN =\n  '${token}';`);
console.log(`const WARM_NOW_MS = ${WARM_NOW * 1000};`);
console.log(`const WARM_SIGNING_KEY = '${JSON.stringify({ kty, crv, d, x })}';`);
