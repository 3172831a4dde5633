/**
 * What a user would deploy instead of the gateway, the naive way (issue 19): jose's createRemoteJWKSet and
 * jwtVerify with issuer, audience, typ and RS256 pinned, then a fetch to the origin. jose caches the key set
 * in the isolate (its cacheMaxAge, 10 minutes); every token is verified in full, accepted or not.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';

interface PeerEnv {
  ORIGIN: string;
  JWKS_URI: string;
  ISSUER: string;
  AUDIENCE: string;
}

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

const unauthorized = () => new Response('Unauthorized', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

export default {
  async fetch(request, env): Promise<Response> {
    jwks ??= createRemoteJWKSet(new URL(env.JWKS_URI));
    const authorization = request.headers.get('authorization');
    if (!authorization?.startsWith('Bearer ')) return unauthorized();
    try {
      await jwtVerify(authorization.slice(7), jwks, { issuer: env.ISSUER, audience: env.AUDIENCE, algorithms: ['RS256'], typ: 'at+jwt' });
    } catch {
      return unauthorized();
    }
    const url = new URL(request.url);
    return fetch(env.ORIGIN + url.pathname + url.search, request);
  },
} satisfies ExportedHandler<PeerEnv>;
