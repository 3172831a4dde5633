/**
 * The gateway's token path for a bare JWS: shape gate (JWS half) -> pinned algorithm -> JWKS gate -> key
 * store (kid lookup, import) -> signature. Everything but the JWT claim rules, which need a JWT payload
 * that JWS-level test vectors do not have. Every step is the gateway's own code; only the issuer object
 * standing around the published keys is built here.
 */
import type { JWK } from 'jose';
import type { Algorithm, CompiledIssuer } from '../../src/config/types.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { algorithmsForKey, judgeJwks } from '../../src/keys/validate-jwk.ts';
import { parseJwsShape } from '../../src/token/shape.ts';
import { verifyTokenSignature } from '../../src/verify/signature.ts';

export const ALLOWED_ALGORITHMS: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/** Where the gateway stopped the JWS: 'accepted' only when the signature verified. */
export type Stage = 'shape' | 'alg' | 'keys' | 'signature' | 'accepted';

/** What an operator would pin for these keys: each key's own alg, or every allowed alg of its type. */
export function pinnedAlgorithms(keys: readonly JWK[]): Algorithm[] {
  const pinned = new Set<Algorithm>();
  for (const jwk of keys) {
    const fits = algorithmsForKey(jwk).filter((alg) => ALLOWED_ALGORITHMS.includes(alg));
    for (const alg of fits) if (jwk.alg === undefined || jwk.alg === alg) pinned.add(alg);
  }
  return [...pinned];
}

/** `published` is what the issuer serves as its JWKS: it goes through the same gate a fetched JWKS does. */
export async function judgeJwsThroughGateway(jws: string, published: JWK[], algorithms: readonly Algorithm[], now = 0): Promise<Stage> {
  const shape = parseJwsShape(jws);
  if (!shape.ok) return 'shape';
  const alg = shape.jws.header.alg as Algorithm;
  if (!algorithms.includes(alg)) return 'alg';
  const set = judgeJwks({ keys: published });
  if (!set.ok) return 'keys';
  const issuer = { id: 'vectors', keySource: { kind: 'inline', keys: set.keys } } as unknown as CompiledIssuer;
  const key = await new KeyStore({ allowLoopbackHttp: false }).resolve(issuer, shape.jws.header.kid, alg, now);
  if (!key.ok) return 'keys';
  return (await verifyTokenSignature(shape.jws, key.key, alg)) ? 'accepted' : 'signature';
}
