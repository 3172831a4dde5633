/**
 * Hono's `jwk` middleware as its docs show it (hono.dev/docs/middleware/builtin/jwk), in front of a fetch to
 * the origin: with `jwks_uri` (Hono fetches the key set on every request) when env.KEYS is absent, or with
 * the keys supplied once (env.KEYS, a JWK array) otherwise. issuer, audience, typ and RS256 pinned.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { jwk } from 'hono/jwk';

interface PeerEnv {
  ORIGIN: string;
  JWKS_URI: string;
  ISSUER: string;
  AUDIENCE: string;
  KEYS?: JsonWebKey[];
}

const app = new Hono<{ Bindings: PeerEnv }>();
// Built on the first request (the middleware checks crypto.subtle, which global scope should not touch).
let auth: MiddlewareHandler | undefined;
app.use('*', (c, next) => {
  const { ISSUER: iss, AUDIENCE: aud, KEYS: keys, JWKS_URI: jwksUri } = c.env;
  const verification = { iss, aud, typ: 'at+jwt' };
  auth ??= keys ? jwk({ keys: keys as never, alg: ['RS256'], verification }) : jwk({ jwks_uri: jwksUri, alg: ['RS256'], verification });
  return auth(c, next);
});
app.all('*', (c) => {
  const url = new URL(c.req.url);
  return fetch(c.env.ORIGIN + url.pathname + url.search, c.req.raw);
});

export default app;
