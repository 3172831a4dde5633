/**
 * Issue 17's holes, one test each, shown as an attacker would try them: through the Worker with the demo
 * policy (policies/demo.jsonc, a billing token WITHOUT billing:admin) where the demo has the route, through a
 * gateway built from a small policy where it has not. Each asserts the answer, the finding in the record and
 * what the origin received; each failed on a3d1d6b (before the canonical request).
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, gatewayFor, gatewayForText, send } from '../helpers/gateway.ts';
import { demoClaims, jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';
import { examplePolicyFiles } from '../helpers/policy-files.ts';

const DEMO_JWKS = 'http://127.0.0.1:8788/.well-known/jwks.json';
const CORP_JWKS = 'https://id.corp.example/.well-known/jwks.json';
let key: TestKey;
beforeAll(async () => {
  key = await makeKey('RS256', 'holes-1');
});
const scene = useOutsideWorld(() => new OutsideWorld().serveJwks(DEMO_JWKS, jwksOf(key)).serveJwks(CORP_JWKS, jwksOf(key)).origin('127.0.0.1:8789').origin('origin.example').origin('secure-origin.example'));

const typed = { header: { typ: 'at+jwt' } };
/** A billing token without billing:admin: /billing/admin/users answers it 403. */
const billingToken = () => sign(key, demoClaims({ app_id: 'billing', scope: 'billing:read' }), typed);
const demo = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`http://gateway.test${path}`, init));
const codes = () => scene.logs.last().findings.map((f) => f.code);

describe('path spellings of /billing/admin/users (demo policy, a billing token without billing:admin)', () => {
  it('the control: /billing/admin/users answers 403 insufficient scope', async () => {
    expect((await demo('/billing/admin/users', { headers: bearer(await billingToken()) })).status).toBe(403);
  });

  it.each([['/billing/%61dmin/users'], ['/billing/ADMIN/users'], ['/billing/%41dmin/Users']])('%s is judged by billing-admin: 403, nothing forwarded', async (path) => {
    const response = await demo(path, { headers: bearer(await billingToken()) });
    expect(response.status).toBe(403);
    expect(scene.logs.last()).toMatchObject({ route: 'billing-admin', outcome: 'denied' });
    expect(codes()).toEqual(['scope_insufficient']);
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it.each([['/billing/admin%2Fusers'], ['/billing//admin/users'], ['/billing/admin;x/users'], ['/billing/admin%2fusers'], ['/billing/admin%5Cusers']])(
    '%s is refused 400 path_ambiguous, nothing forwarded',
    async (path) => {
      const response = await demo(path, { headers: bearer(await billingToken()) });
      expect(response.status).toBe(400);
      expect(codes()).toEqual(['path_ambiguous']);
      expect(scene.world.originRequests).toHaveLength(0);
    },
  );

  it('/public/..;/billing/admin/users (Tomcat reads /billing/admin/users) is refused, not served as public', async () => {
    const response = await demo('/public/..;/billing/admin/users');
    expect(response.status).toBe(400);
    expect(codes()).toEqual(['path_ambiguous']);
    expect(scene.world.originRequests).toHaveLength(0);
  });
});

describe('method', () => {
  const getOnly = {
    settings: { default_origin: 'https://origin.example' },
    issuers: { corp: { issuer: 'https://id.corp.example/', jwks_uri: CORP_JWKS } },
    routes: {
      everything: { path: '/*', mode: 'public' },
      reports: { path: '/reports/*', methods: ['GET'], issuers: ['corp'], audiences: ['api'] },
    },
  };

  it('HEAD on a route that lists only GET is judged by that route, not by the public default', async () => {
    const response = await send(gatewayFor(getOnly), new Request('https://gw.example/reports/q3', { method: 'HEAD' }));
    expect(response.status).toBe(401);
    expect(scene.logs.last()).toMatchObject({ route: 'reports' });
    expect(codes()).toEqual(['token_missing']);
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it.each([['x-http-method-override'], ['X-Method-Override'], ['x-http-method']])('a POST with %s: DELETE reaches the origin as the POST that was judged, the override stripped', async (header) => {
    const response = await demo('/billing/invoices/1', { method: 'POST', body: '{}', headers: { ...bearer(await billingToken()), [header]: 'DELETE' } });
    expect(response.status).toBe(200);
    const seen = scene.world.lastOriginRequest();
    expect(seen.method).toBe('POST');
    expect(seen.headers[header.toLowerCase()]).toBeUndefined();
  });

  it('a _method query parameter is refused 400, nothing forwarded', async () => {
    const response = await demo('/billing/invoices/1?_method=DELETE', { method: 'POST', body: '{}', headers: bearer(await billingToken()) });
    expect(response.status).toBe(400);
    expect(codes()).toEqual(['request_invalid']);
    expect(scene.world.originRequests).toHaveLength(0);
  });
});

describe('credentials', () => {
  it('a second token in ?access_token beside the header token is refused 400, and never forwarded', async () => {
    const response = await demo('/billing/x?access_token=forged.token.here', { headers: bearer(await billingToken()) });
    expect(response.status).toBe(400);
    expect(codes()).toEqual(['request_invalid']);
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it('"Bearer<TAB><expired token>" on an optional route that forwards Authorization is not forwarded as "no token"', async () => {
    const gateway = gatewayFor({
      issuers: { corp: { issuer: 'https://id.corp.example/', jwks_uri: CORP_JWKS } },
      routes: { catalog: { path: '/catalog/*', mode: 'optional', issuers: ['corp'], audiences: ['api'], forward_authorization: true, origin: 'https://origin.example' } },
    });
    const expired = await sign(key, { iss: 'https://id.corp.example/', aud: 'api', sub: 'u', iat: nowSeconds() - 600, exp: nowSeconds() - 300 });
    const response = await send(gateway, new Request('https://gw.example/catalog/x', { headers: { authorization: `Bearer\t${expired}` } }));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(scene.logs.last().outcome).toBe('denied');
    expect(codes()).not.toContain('token_missing');
    expect(scene.world.originRequests).toHaveLength(0);
  });
});

describe('headers the origin must not receive from a client', () => {
  it('a CORS preflight passed through without a token goes bare: no cookie, no credential, no body, no other header', async () => {
    const gateway = gatewayForText(examplePolicyFiles['policies/examples/modes.jsonc']!, 'policies/examples/modes.jsonc');
    const preflight = new Request('https://gw.example/api/orders', {
      method: 'OPTIONS',
      body: 'a body',
      headers: {
        origin: 'https://app.corp.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
        cookie: 'session=secret',
        authorization: 'Basic dXNlcjpwYXNz',
        'x-api-key': 'k',
      },
    });
    expect((await send(gateway, preflight)).status).toBe(200);
    expect(scene.logs.last().outcome).toBe('preflight');
    const seen = scene.world.lastOriginRequest();
    // Beside the gateway's own headers (its identity prefix), only what answers a preflight.
    const clientHeaders = Object.keys(seen.headers).filter((name) => !name.startsWith('x-verified-'));
    expect(clientHeaders.sort()).toEqual(['access-control-request-headers', 'access-control-request-method', 'origin']);
    expect(seen.body).toBe('');
  });

  const authorityHeaders = {
    'x-original-url': '/billing/admin/users',
    'x-rewrite-url': '/billing/admin/users',
    'x-forwarded-host': 'admin.internal',
    forwarded: 'for=10.0.0.1;host=admin.internal',
    'x-real-ip': '10.0.0.1',
    'true-client-ip': '10.0.0.1',
    'x-remote-user': 'admin',
    'x-forwarded-user': 'admin',
    'x-auth-request-user': 'admin',
    'x-auth-request-email': 'admin@corp.example',
    'x-amzn-oidc-identity': 'admin',
    'x-ms-client-principal-name': 'admin',
  };

  it('rewrite overrides, proxy headers and other gateways\' identity headers sent by a client never reach the origin (public route)', async () => {
    expect((await demo('/public/x', { headers: { ...authorityHeaders, 'x-kept': 'yes' } })).status).toBe(200);
    const seen = scene.world.lastOriginRequest();
    for (const name of Object.keys(authorityHeaders)) expect(seen.headers[name], name).toBeUndefined();
    expect(seen.headers['x-kept']).toBe('yes');
  });
});

describe('policies the compiler accepted, requests that went to the weaker route', () => {
  const issuers = { corp: { issuer: 'https://id.corp.example/', jwks_uri: CORP_JWKS } };

  it('an exact route beside a /* default: /account/settings/ is judged by the exact route', async () => {
    const gateway = gatewayFor({
      settings: { default_origin: 'https://origin.example' },
      issuers,
      routes: { everything: { path: '/*', mode: 'public' }, settings: { path: '/account/settings', issuers: ['corp'], audiences: ['api'] } },
    });
    const response = await send(gateway, new Request('https://gw.example/account/settings/'));
    expect(response.status).toBe(401);
    expect(scene.logs.last()).toMatchObject({ route: 'settings' });
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it('Host: secure.test. (trailing dot) is judged by secure.test\'s routes', async () => {
    const gateway = gatewayFor({
      settings: { default_origin: 'https://origin.example' },
      issuers,
      routes: { everything: { path: '/*', mode: 'public' }, secure: { path: '/*', host: 'secure.test', issuers: ['corp'], audiences: ['api'], origin: 'https://secure-origin.example' } },
    });
    const response = await send(gateway, new Request('https://secure.test./x'));
    expect(response.status).toBe(401);
    expect(scene.logs.last()).toMatchObject({ route: 'secure' });
    expect(scene.world.originRequests).toHaveLength(0);
  });
});
