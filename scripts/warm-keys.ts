/**
 * `node scripts/warm-keys.ts`: makes the throwaway key and token of src/warm.ts's synthetic request (a fresh
 * Ed25519 key: the synthetic issuer's key, which signs the token, and the assertion's signing key) and prints
 * them as the constants to paste there. Only for changing the synthetic issuer, route or claims. One small key
 * rather than an RSA key beside it: 2048-bit RSA's modulus and signature cost ~0.5 KiB of the gzip budget. The claims must satisfy src/warm.ts's ISSUER and ROUTE; test/unit/warm.test.ts fails if not.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

const WARM_NOW = 1_800_000_000;
const claims = {
  iss: 'https://i.invalid',
  sub: 'warm',
  aud: 'https://a.invalid',
  app_id: 'warm',
  scope: 'read',
  roles: ['reader'],
  token_use: 'access',
  iat: WARM_NOW,
  exp: WARM_NOW + 600,
};
const ed25519 = generateKeyPairSync('ed25519');
const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'warm' }).sign(ed25519.privateKey);
const { crv, d, x, kty } = ed25519.privateKey.export({ format: 'jwk' });
console.log(`const WARM_TOKEN =\n  '${token}';`);
console.log(`const WARM_NOW_MS = ${WARM_NOW * 1000};`);
console.log(`const WARM_SIGNING_KEY = '${JSON.stringify({ kty, crv, d, x })}';`);
