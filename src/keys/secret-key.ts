/**
 * The verification key of an HMAC issuer (`secret_binding`): a Worker secret, imported once per isolate
 * and algorithm, the CryptoKey kept. The secret itself is never logged or returned; a missing or too
 * short secret is an operator error the client sees as 503 keys_unavailable, never as a 500.
 */
import { MIN_HMAC_SECRET_BYTES } from '../config/constants.ts';
import type { Algorithm, HmacAlgorithm } from '../config/types.ts';
import { finding } from '../findings.ts';
import type { KeyLookup } from './key-store.ts';
import { warn } from '../log/warn.ts';

const HASH_OF: Record<HmacAlgorithm, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

const isHmac = (alg: Algorithm): alg is HmacAlgorithm => Object.hasOwn(HASH_OF, alg);

/** binding:alg -> the secret it was imported from and the key; a changed secret (a new deploy) is re-imported. */
const imported = new Map<string, { secret: string; key: CryptoKey }>();

export async function resolveSecretKey(binding: string, alg: Algorithm, env: object): Promise<KeyLookup> {
  if (!isHmac(alg)) return { ok: false, finding: finding('kid_unknown', { detail: `a secret key cannot verify ${alg}` }) };
  const secret: unknown = (env as Record<string, unknown>)[binding];
  if (typeof secret !== 'string' || secret.length === 0) {
    warn('hmac_secret_missing', { binding });
    return { ok: false, finding: finding('keys_unavailable', { detail: `Worker secret ${binding} is not set` }) };
  }
  // The steady state: this secret was imported before. Nothing to encode or check again.
  const cacheKey = `${binding}:${alg}`;
  const cached = imported.get(cacheKey);
  if (cached && cached.secret === secret) return { ok: true, key: cached.key, layer: 'inline' };
  const bytes = new TextEncoder().encode(secret);
  if (bytes.byteLength < MIN_HMAC_SECRET_BYTES[alg]) {
    warn('hmac_secret_too_short', { binding, alg });
    return { ok: false, finding: finding('keys_unavailable', { detail: `Worker secret ${binding} is shorter than ${MIN_HMAC_SECRET_BYTES[alg]} bytes` }) };
  }
  const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: HASH_OF[alg] }, false, ['verify']);
  imported.set(cacheKey, { secret, key });
  return { ok: true, key, layer: 'inline' };
}
