/**
 * The gateway's own public keys (current, then next) as a JWK set, for origins that verify the assertion.
 * Answered before route matching, so no route can shadow it and no policy needs to mention it.
 */
import { GATEWAY_JWKS_MAX_AGE_SECONDS } from '../config/constants.ts';
import type { CompiledAssertion } from '../config/types.ts';
import type { Env } from '../env.ts';
import { signingSetup } from './signing-keys.ts';

export function isGatewayJwksRequest(assertion: CompiledAssertion, method: string, url: URL): boolean {
  return assertion.mode === 'signed' && url.pathname === assertion.jwksPath && (method === 'GET' || method === 'HEAD');
}

export type JwksAnswer = { ok: true; response: Response } | { ok: false; reason: string };

export async function gatewayJwks(assertion: CompiledAssertion, env: Env): Promise<JwksAnswer> {
  const keys = await signingSetup(assertion, env);
  if (!keys.ok) return { ok: false, reason: `assertion: ${keys.reason}` };
  const response = Response.json(
    { keys: keys.setup.published },
    { headers: { 'content-type': 'application/jwk-set+json', 'cache-control': `public, max-age=${GATEWAY_JWKS_MAX_AGE_SECONDS}` } },
  );
  return { ok: true, response };
}
