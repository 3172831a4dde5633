/**
 * The gateway's token path for a bare JWS: shape gate (JWS half) -> pinned algorithm -> key (JWKS gate and
 * key store, or for HMAC the Worker-secret key layer) -> signature. Everything but the JWT claim rules, which
 * need a JWT payload that JWS-level test vectors do not have. Every step is the gateway's own code; only the
 * issuer object standing around the published keys is built here.
 */
import type { JWK } from 'jose';
import { MIN_HMAC_SECRET_BYTES } from '../../src/config/constants.ts';
import type { Algorithm, CompiledIssuer } from '../../src/config/types.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { detachedKeys } from '../../src/keys/detached-keys.ts';
import { resolveSecretKey } from '../../src/keys/secret-key.ts';
import { algorithmsForKey, judgeJwks } from '../../src/keys/validate-jwk.ts';
import { base64UrlToBytes } from '../../src/token/base64url.ts';
import { parseJwsShape } from '../../src/token/shape.ts';
import { verifyTokenSignature } from '../../src/verify/signature.ts';

export const ASYMMETRIC_ALGORITHMS: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
const HMAC_ALGORITHMS: readonly string[] = ['HS256', 'HS384', 'HS512'];

/** Where the gateway stopped the JWS: 'accepted' only when the signature verified. */
export type Stage = 'shape' | 'alg' | 'keys' | 'signature' | 'accepted';

/**
 * How an operator could configure these published keys: an HMAC issuer (one `oct` key, as a Worker secret)
 * or a JWKS/inline issuer pinned to each key's own alg (or every allowed alg of its type). `unconfigurable`
 * says why no configuration can hold them.
 */
export interface Configuration {
  algorithms: Algorithm[];
  secret: string | null;
  unconfigurable: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function configurationFor(keys: readonly JWK[]): Configuration {
  const symmetric = keys.filter((k) => k.kty === 'oct');
  if (symmetric.length > 0 && symmetric.length === keys.length) {
    if (keys.length > 1) return { algorithms: [], secret: null, unconfigurable: 'an HMAC issuer has exactly one secret, not a key set' };
    const [key] = symmetric as [JWK];
    if (!HMAC_ALGORITHMS.includes(String(key.alg))) return { algorithms: [], secret: null, unconfigurable: `${String(key.alg)} is not a signature algorithm` };
    try {
      const bytes = base64UrlToBytes(String(key.k)) ?? new Uint8Array();
      const secret = utf8.decode(bytes);
      if (bytes.length < MIN_HMAC_SECRET_BYTES[key.alg as keyof typeof MIN_HMAC_SECRET_BYTES]) {
        return { algorithms: [], secret: null, unconfigurable: 'an HMAC secret shorter than the hash output is refused (RFC 7518 3.2)' };
      }
      return { algorithms: [key.alg as Algorithm], secret, unconfigurable: null };
    } catch {
      return { algorithms: [], secret: null, unconfigurable: 'an HMAC key whose bytes are not UTF-8 cannot be a Worker secret (the only HMAC key source)' };
    }
  }
  const pinned = new Set<Algorithm>();
  for (const jwk of keys) {
    const fits = algorithmsForKey(jwk).filter((alg) => ASYMMETRIC_ALGORITHMS.includes(alg));
    for (const alg of fits) if (jwk.alg === undefined || jwk.alg === alg) pinned.add(alg);
  }
  return { algorithms: [...pinned], secret: null, unconfigurable: pinned.size === 0 ? 'no algorithm the gateway has fits these keys (ES512, encryption keys)' : null };
}

/** `published` is what the issuer serves: its JWKS (through the same gate a fetched one goes) or its one HMAC secret. */
export async function judgeJwsThroughGateway(jws: string, published: JWK[], configuration: Pick<Configuration, 'algorithms' | 'secret'>, now = 0): Promise<Stage> {
  const shape = parseJwsShape(jws);
  if (!shape.ok) return 'shape';
  const alg = shape.jws.header.alg as Algorithm;
  if (!configuration.algorithms.includes(alg)) return 'alg';
  let key;
  if (configuration.secret !== null) {
    key = await resolveSecretKey('JWS_VECTOR_SECRET', alg, { JWS_VECTOR_SECRET: configuration.secret });
  } else {
    const set = judgeJwks({ keys: published });
    if (!set.ok) return 'keys';
    const issuer = { id: 'vectors', keySource: { kind: 'inline', keys: set.keys } } as unknown as CompiledIssuer;
    key = await detachedKeys(new KeyStore({ allowLoopbackHttp: false })).resolve(issuer, shape.jws.header.kid, alg, now);
  }
  if (!key.ok) return 'keys';
  return (await verifyTokenSignature(shape.jws, key.key, alg)) ? 'accepted' : 'signature';
}
