/**
 * The gateway's assertion keys, from Worker secrets, imported once per isolate (and again only when a
 * secret's value changes, e.g. after `wrangler secret put` deployed a new version):
 *   GATEWAY_SIGNING_KEY        private JWK (OKP Ed25519 -> EdDSA, or EC P-256 -> ES256); signs
 *   GATEWAY_NEXT_SIGNING_KEY   optional private JWK; published, never signs (rotation, docs/origin.md)
 *   GATEWAY_ASSERTION_SECRET   hmac mode: a shared secret of at least 32 bytes; HS256
 */
import type { JWK } from 'jose';
import { MIN_HMAC_SECRET_BYTES } from '../config/constants.ts';
import type { CompiledAssertion } from '../config/types.ts';
import type { Env } from '../env.ts';
import { importJwk } from '../keys/import-key.ts';
import { jwkThumbprint } from '../keys/thumbprint.ts';
import { SECRET_MEMBERS } from '../keys/validate-jwk.ts';

export type AssertionAlgorithm = 'EdDSA' | 'ES256' | 'HS256';

export interface AssertionSigner {
  alg: AssertionAlgorithm;
  /** Absent in hmac mode: there is one secret, shared out of band. */
  kid: string | undefined;
  key: CryptoKey;
}

export interface SigningSetup {
  signer: AssertionSigner;
  /** Public JWKs to publish (current first, then next); empty in hmac mode. */
  published: JWK[];
}

export type SigningResult = { ok: true; setup: SigningSetup } | { ok: false; reason: string };

function algorithmOf(jwk: JWK): 'EdDSA' | 'ES256' | null {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  return null;
}

async function importPrivateJwk(name: string, text: string): Promise<{ signer: AssertionSigner; publicJwk: JWK } | string> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    return `${name} is not JSON`;
  }
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string') return `${name} is not a private JWK`;
  const alg = algorithmOf(jwk);
  if (alg === null) return `${name} must be an Ed25519 (OKP) or P-256 (EC) key`;
  if (jwk.alg !== undefined && jwk.alg !== alg) return `${name} says alg ${jwk.alg}, its key type is for ${alg}`;
  const publicPart = Object.fromEntries(Object.entries(jwk).filter(([member]) => !SECRET_MEMBERS.includes(member) && member !== 'key_ops' && member !== 'ext')) as JWK;
  try {
    // Inside the try: a key without its public members (x, y) fails the thumbprint too, and must give this reason.
    const kid = jwk.kid ?? (await jwkThumbprint(publicPart));
    const key = await importJwk({ ...jwk, key_ops: ['sign'] }, alg);
    return { signer: { alg, kid, key }, publicJwk: { ...publicPart, kid, alg, use: 'sig' } };
  } catch {
    return `${name} could not be imported`;
  }
}

async function loadSigned(env: Env): Promise<SigningResult> {
  if (!env.GATEWAY_SIGNING_KEY) return { ok: false, reason: 'GATEWAY_SIGNING_KEY is not set' };
  const current = await importPrivateJwk('GATEWAY_SIGNING_KEY', env.GATEWAY_SIGNING_KEY);
  if (typeof current === 'string') return { ok: false, reason: current };
  const published = [current.publicJwk];
  if (env.GATEWAY_NEXT_SIGNING_KEY) {
    const next = await importPrivateJwk('GATEWAY_NEXT_SIGNING_KEY', env.GATEWAY_NEXT_SIGNING_KEY);
    if (typeof next === 'string') return { ok: false, reason: next };
    if (next.publicJwk.kid === current.publicJwk.kid) return { ok: false, reason: 'GATEWAY_NEXT_SIGNING_KEY has the kid of GATEWAY_SIGNING_KEY' };
    published.push(next.publicJwk);
  }
  return { ok: true, setup: { signer: current.signer, published } };
}

async function loadHmac(env: Env): Promise<SigningResult> {
  const secret = env.GATEWAY_ASSERTION_SECRET;
  if (!secret) return { ok: false, reason: 'GATEWAY_ASSERTION_SECRET is not set' };
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length < MIN_HMAC_SECRET_BYTES.HS256) return { ok: false, reason: `GATEWAY_ASSERTION_SECRET is shorter than ${MIN_HMAC_SECRET_BYTES.HS256} bytes` };
  const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return { ok: true, setup: { signer: { alg: 'HS256', kid: undefined, key }, published: [] } };
}

/**
 * Settled results only are kept (never a pending promise: workerd forbids awaiting one request's I/O
 * from another). Two first requests at once may both import; the second result simply replaces the first.
 */
let cached: { mode: CompiledAssertion['mode']; secrets: (string | undefined)[]; result: SigningResult } | undefined;
let imports = 0;

/** Synchronous once the secrets are imported (every request but an isolate's first), so the caller need not await. */
export function signingSetup(assertion: CompiledAssertion, env: Env): SigningResult | Promise<SigningResult> {
  const secrets = [env.GATEWAY_SIGNING_KEY, env.GATEWAY_NEXT_SIGNING_KEY, env.GATEWAY_ASSERTION_SECRET];
  if (cached?.mode === assertion.mode && cached.secrets.every((value, i) => value === secrets[i])) return cached.result;
  return importSigningKeys(assertion, env, secrets);
}

async function importSigningKeys(assertion: CompiledAssertion, env: Env, secrets: (string | undefined)[]): Promise<SigningResult> {
  imports++;
  const result = assertion.mode === 'hmac' ? await loadHmac(env) : await loadSigned(env);
  cached = { mode: assertion.mode, secrets, result };
  return result;
}

/** How many times keys were imported in this isolate: lets a test prove they are not imported per request. */
export const signingKeyImports = () => imports;
