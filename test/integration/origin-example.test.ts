/** examples/hono-origin.ts, fed the requests the gateway forwarded: accepts the genuine one, refuses a tampered copy. */
import { beforeAll, expect, it } from 'vitest';
import type { JWK } from 'jose';
import { makeApp } from '../../examples/hono-origin.ts';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { gatewaySigningKey } from '../helpers/gateway-keys.ts';
import { makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';

const IDP = 'https://idp.example/';
let idpKey: TestKey;
let signingKey: string;

beforeAll(async () => {
  idpKey = await makeKey('ES256', 'idp-1');
  signingKey = await gatewaySigningKey('ES256', 'gw-es');
});
const scene = useOutsideWorld(() => new OutsideWorld().origin('origin.example'));

it('the Hono middleware accepts what the gateway forwarded and refuses a tampered or replayed copy', async () => {
  const gateway = gatewayFor({
    settings: { assertion: {} },
    issuers: { idp: { issuer: IDP, keys: [idpKey.publicJwk], algorithms: ['ES256'] } },
    routes: { orders: { path: '/orders/*', issuers: ['idp'], audiences: ['api'], app: 'shop', origin: 'https://origin.example', claim_headers: { tenant: 'tid' } } },
  });
  const secrets = { GATEWAY_SIGNING_KEY: signingKey };
  const now = nowSeconds();
  const token = await sign(idpKey, { iss: IDP, aud: 'api', sub: 'u-1', app_id: 'shop', tid: 'acme', scope: 'orders:read', iat: now, exp: now + 60 });
  expect((await send(gateway, new Request('https://gw.example/orders/7', { headers: bearer(token) }), secrets)).status).toBe(200);
  const jwks = (await (await send(gateway, new Request('https://gw.example/.well-known/gateway-jwks.json'), secrets)).json()) as { keys: JWK[] };

  const app = makeApp({ issuer: 'edge-jwt-gateway', audience: 'shop', keys: jwks.keys });
  const seen = scene.world.lastOriginRequest();
  const genuine = await app.fetch(new Request(seen.url, { headers: seen.headers }));
  expect(genuine.status).toBe(200);
  expect(await genuine.json()).toEqual({ order: '7', user: 'u-1', app: 'shop', scope: 'orders:read', tenant: 'acme' });

  const tampered = await app.fetch(new Request(seen.url, { headers: { ...seen.headers, 'x-verified-tenant': 'globex' } }));
  expect(tampered.status).toBe(401);
  const replayed = await app.fetch(new Request('https://origin.example/orders/8', { headers: seen.headers }));
  expect(replayed.status).toBe(401);
});
