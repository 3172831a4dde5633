/** Gateway signing keys as Worker secrets hold them (private JWK JSON), and a send() with extra bindings. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { Env } from '../../src/env.ts';
import type { Gateway } from '../../src/gateway.ts';

export async function gatewaySigningKey(alg: 'EdDSA' | 'ES256' = 'EdDSA', kid?: string): Promise<string> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return JSON.stringify({ ...(await exportJWK(privateKey)), ...(kid ? { kid } : {}) });
}

/** One request through a gateway with workerd's env plus `extra` (secrets, service bindings). */
export async function sendWith(gateway: Gateway, request: Request, extra: Partial<Env> & Record<string, unknown>): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await gateway.handle(request, { ...env, ...extra } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
