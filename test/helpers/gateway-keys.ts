/** Gateway signing keys as Worker secrets hold them (private JWK JSON); send() in gateway.ts takes them as bindings. */
import { exportJWK, generateKeyPair } from 'jose';

export async function gatewaySigningKey(alg: 'EdDSA' | 'ES256' = 'EdDSA', kid?: string): Promise<string> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return JSON.stringify({ ...(await exportJWK(privateKey)), ...(kid ? { kid } : {}) });
}
