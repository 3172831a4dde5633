/**
 * `node scripts/warm-keys.ts`: makes the throwaway key and token of src/warm.ts's synthetic request (a fresh
 * Ed25519 key: the synthetic issuer's key, which signs the token, and the assertion's signing key) and prints
 * them as the constants to paste there. Only for changing the synthetic issuer, route or claims: change WARM_HEADER
 * or WARM_CLAIMS in src/warm-token.ts first (the token signs them as src/warm.ts encodes them), then run this. One small key
 * rather than an RSA key beside it: 2048-bit RSA's modulus and signature cost ~0.5 KiB of the gzip budget. The claims must satisfy src/warm.ts's ISSUER and ROUTE; test/unit/warm.test.ts fails if not.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { WARM_CLAIMS, WARM_HEADER } from '../src/warm-token.ts';

const ed25519 = generateKeyPairSync('ed25519');
const token = await new SignJWT(WARM_CLAIMS).setProtectedHeader(WARM_HEADER).sign(ed25519.privateKey);
const { crv, d, x, kty } = ed25519.privateKey.export({ format: 'jwk' });
console.log(`const WARM_SIGNATURE = '${token.split('.')[2]}';`);
console.log(`const WARM_SIGNING_KEY = '${JSON.stringify({ kty, crv, d, x })}';`);
