/**
 * The demo's outside world on loopback: an issuer that serves its JWKS (and OIDC discovery), and an echo
 * origin that answers with a JSON description of the request it received.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createGatewayVerifier, type VerifyResult } from '../../src/origin/index.ts';
import { demoPrivateJwks, publicJwk } from './keys.ts';

export const DEMO_HOST = '127.0.0.1';
export const GATEWAY_PORT = 8787;
export const ISSUER_PORT = 8788;
export const ORIGIN_PORT = 8789;
export const DEMO_ISSUER = `http://${DEMO_HOST}:${ISSUER_PORT}`;
export const DEMO_AUDIENCE = 'https://api.example.test';

function listen(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, DEMO_HOST, () => resolve(server));
  });
}

export async function startDemoIssuer(port = ISSUER_PORT): Promise<Server> {
  const keys = Object.values(await demoPrivateJwks()).map(publicJwk);
  const issuer = `http://${DEMO_HOST}:${port}`;
  return listen(
    createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' });
        res.end(JSON.stringify({ keys }));
      } else if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json` }));
      } else {
        res.writeHead(404).end();
      }
    }),
    port,
  );
}

async function bodyLength(req: IncomingMessage): Promise<number> {
  let length = 0;
  for await (const chunk of req) length += (chunk as Buffer).length;
  return length;
}

/** What the echo origin makes of the gateway's assertion, with the origin module an origin would use. */
function assertionReport(result: VerifyResult) {
  if (!result.ok) return { verified: false, error: result.error.code, message: result.error.message };
  // Only what the assertion signs: the request id header is not among it while assertions are reused.
  const { sub, idp, app, scope, route, assertionId, claims } = result.identity;
  return { verified: true, sub, idp, app, scope, route, assertion_id: assertionId, claims };
}

export async function startEchoOrigin(port = ORIGIN_PORT, gatewayJwksUrl = `http://${DEMO_HOST}:${GATEWAY_PORT}/.well-known/gateway-jwks.json`): Promise<Server> {
  // Audience: the demo routes' apps (assertion_audience defaults to the route's app, else its id).
  const verify = createGatewayVerifier({ issuer: 'edge-jwt-gateway', audience: ['billing', 'reports'], jwksUrl: gatewayJwksUrl });
  return listen(
    createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? DEMO_HOST}`);
      const query: Record<string, string | string[]> = {};
      for (const key of new Set(url.searchParams.keys())) {
        const values = url.searchParams.getAll(key);
        query[key] = values.length === 1 ? values[0]! : values;
      }
      const received = { method: req.method ?? 'GET', host: req.headers.host ?? '', path: url.pathname, query: url.search, headers: req.headers };
      const assertion = req.headers['x-verified-assertion'] === undefined ? null : assertionReport(await verify(received));
      const description = { method: req.method, path: url.pathname, query, headers: req.headers, assertion, body_bytes: await bodyLength(req) };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(description, null, 2) + '\n');
    }),
    port,
  );
}
