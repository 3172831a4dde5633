/**
 * An origin behind the gateway, written with Hono: a middleware verifies the gateway's signed assertion
 * and the identity headers against the request, and handlers read the verified identity from the context.
 * Runs as is on Workers, Bun and Deno (`export default makeApp(...)`), and on Node with @hono/node-server.
 * Tested in test/integration/origin-example.test.ts.
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { createGatewayVerifier, receivedFrom, type GatewayVerifierOptions, type VerifiedIdentity } from 'edge-jwt-gateway/origin';

type Env = { Variables: { identity: VerifiedIdentity } };

/** Refuses (401) any request whose assertion does not verify; the reason code goes to the log, not the client. */
export function gatewayIdentity(options: GatewayVerifierOptions) {
  const verify = createGatewayVerifier(options); // once: it caches the gateway's keys
  return createMiddleware<Env>(async (c, next) => {
    const result = await verify(receivedFrom(c.req.raw));
    if (!result.ok) {
      console.warn(JSON.stringify({ assertion_rejected: result.error.code, message: result.error.message }));
      return c.json({ error: 'unauthorized' }, 401);
    }
    c.set('identity', result.identity);
    await next();
  });
}

export function makeApp(options: GatewayVerifierOptions) {
  const app = new Hono<Env>();
  app.use('*', gatewayIdentity(options));
  app.get('/orders/:id', (c) => {
    const { sub, app: clientApp, scope, claims } = c.get('identity');
    return c.json({ order: c.req.param('id'), user: sub, app: clientApp, scope, tenant: claims['x-verified-tenant'] ?? null });
  });
  return app;
}

// On Workers, Bun or Deno:
//   export default makeApp({
//     issuer: 'edge-jwt-gateway',
//     audience: 'shop',
//     jwksUrl: 'https://api.example.com/.well-known/gateway-jwks.json',
//   });
// On Node: import { serve } from '@hono/node-server'; serve({ fetch: makeApp({...}).fetch, port: 3000 });
