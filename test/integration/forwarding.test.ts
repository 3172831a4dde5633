/**
 * The forward step through the Gateway in workerd: what the origin receives (stripped, added), the three
 * origin forms, redirects and upgrades passed back, and 502/504 when the origin fails.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import schema from '../../src/config/policy.schema.json' with { type: 'json' };
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';

const IDP = 'https://idp.example/';
let idpKey: TestKey;

beforeAll(async () => {
  idpKey = await makeKey('ES256', 'idp-1');
});
const scene = useOutsideWorld(() =>
  new OutsideWorld()
    .origin('origin.example')
    .origin('gw.example')
    .originHandler('redirecting.example', () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/login' } }))
    // A hung origin: it answers only when the gateway gives up, as fetch does when its signal aborts.
    .originHandler('slow.example', (request) => new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))))
    .originHandler('ws.example', (request) => {
        if (request.headers.get('upgrade') !== 'websocket') return new Response('upgrade required', { status: 426 });
        const [client, server] = Object.values(new WebSocketPair());
        server!.accept();
        return new Response(null, { status: 101, webSocket: client! });
      }),
);

const issuers = () => ({ idp: { issuer: IDP, keys: [idpKey.publicJwk], algorithms: ['ES256'] } });
const guarded = { issuers: ['idp'], audiences: ['api'] };
async function token(claims: Record<string, unknown> = {}) {
  const now = nowSeconds();
  return sign(idpKey, { iss: IDP, aud: 'api', sub: 'user-1', iat: now, exp: now + 300, ...claims });
}

const FORGED = {
  'x-verified-sub': 'admin',
  'X-Verified-App': 'billing',
  'X-VERIFIED-ROUTE': 'admin',
  'x-verified-assertion': 'eyJhbGciOiJub25lIn0.e30.',
  'x-gw-assertion': 'eyJhbGciOiJub25lIn0.e30.',
};

describe('forged identity headers never reach the origin', () => {
  // Every mode the schema knows (enforce, report-only, optional, public): a new mode joins this table by itself.
  const modes = (schema as { $defs: { route: { properties: { mode: { enum: string[] } } } } }).$defs.route.properties.mode.enum;

  /** Of [valid token, no token, bad token], the requests each mode forwards (public: one request without a token). */
  const FORWARDED: Record<string, number> = { public: 1, enforce: 1, optional: 2, 'report-only': 3 };

  it.each(modes)('on a %s route, whatever the token', async (mode) => {
    const gateway = gatewayFor({
      settings: { assertion: { header: 'x-gw-assertion' } },
      issuers: issuers(),
      routes: { r: { path: '/*', mode, origin: 'https://origin.example', ...(mode === 'public' ? {} : guarded) } },
    });
    const credentials = mode === 'public' ? [{}] : [bearer(await token()), {}, bearer('bad.token.here')];
    for (const auth of credentials) {
      await send(gateway, new Request('https://gw.example/x', { headers: { ...FORGED, ...auth } }));
    }
    expect(scene.world.originRequests).toHaveLength(FORWARDED[mode] ?? -1);
    scene.world.originRequests.forEach((seen, index) => {
      const verifiedToken = mode !== 'public' && index === 0;
      expect(seen.headers['x-verified-sub']).toBe(verifiedToken ? 'user-1' : undefined);
      expect(seen.headers['x-verified-app']).toBeUndefined();
      expect(seen.headers['x-verified-route']).toBe('r');
      expect(seen.headers['x-verified-assertion']).toBeUndefined();
      // Only the gateway's own assertion, and only for a verified token.
      if (verifiedToken) expect(seen.headers['x-gw-assertion']).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      else expect(seen.headers['x-gw-assertion']).toBeUndefined();
      expect(seen.headers.authorization).toBeUndefined();
    });
  });

  it('keeps Authorization only where the route says forward_authorization', async () => {
    const gateway = gatewayFor({ issuers: issuers(), routes: { r: { path: '/*', origin: 'https://origin.example', forward_authorization: true, ...guarded } } });
    const auth = bearer(await token());
    await send(gateway, new Request('https://gw.example/x', { headers: auth }));
    expect(scene.world.lastOriginRequest().headers.authorization).toBe(auth.authorization);
  });
});

describe('claim headers', () => {
  it('maps nested, dotted and URL-named claims; a value over the cap is left out, not cut', async () => {
    const gateway = gatewayFor({
      issuers: issuers(),
      routes: {
        r: {
          path: '/*', origin: 'https://origin.example', ...guarded,
          claim_headers: {
            tenant: ['org', 'id'], 'dotted-name': 'a.b', groups: 'https://example.com/groups',
            'groups-json': { claim: 'https://example.com/groups', format: 'json' }, roles: 'roles', big: 'big',
          },
        },
      },
    });
    const claims = { org: { id: 'acme' }, 'a.b': 'literal', 'https://example.com/groups': ['x', 'y z'], roles: { admin: true }, big: 'b'.repeat(3000) };
    expect((await send(gateway, new Request('https://gw.example/x', { headers: bearer(await token(claims)) }))).status).toBe(200);
    const headers = scene.world.lastOriginRequest().headers;
    expect(headers).toMatchObject({
      'x-verified-tenant': 'acme', 'x-verified-dotted-name': 'literal', 'x-verified-groups': 'x,y z',
      'x-verified-groups-json': '["x","y z"]', 'x-verified-roles': '{"admin":true}',
    });
    expect(headers['x-verified-big']).toBeUndefined();
    // The operator is told: the record names the header that was left out.
    expect(scene.logs.last()).toMatchObject({ outcome: 'allowed', omitted_headers: ['x-verified-big'] });
  });
});

describe('origins', () => {
  it('URL origin with a path prefix rewrite: method, query and body preserved', async () => {
    const gateway = gatewayFor({ routes: { r: { path: '/api/*', mode: 'public', origin: { url: 'https://origin.example/v2', strip_path_prefix: '/api' } } } });
    await send(gateway, new Request('https://gw.example/api/items?a=1&a=2', { method: 'PUT', body: 'payload' }));
    expect(scene.world.lastOriginRequest()).toMatchObject({ method: 'PUT', url: 'https://origin.example/v2/items?a=1&a=2', body: 'payload' });
  });

  it('same-url passes through to the URL the client called (a Worker on a zone route)', async () => {
    const gateway = gatewayFor({ routes: { r: { path: '/*', host: 'gw.example', mode: 'public', origin: { same_url: true } } } });
    await send(gateway, new Request('https://gw.example/p?q=1', { method: 'POST', body: 'b' }));
    expect(scene.world.lastOriginRequest()).toMatchObject({ method: 'POST', url: 'https://gw.example/p?q=1', body: 'b' });
  });

  it('the request cannot choose its origin: Host and forwarding headers are ignored', async () => {
    const gateway = gatewayFor({ routes: { r: { path: '/*', mode: 'public', origin: 'https://origin.example' } } });
    await send(gateway, new Request('https://gw.example/p', { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } }));
    expect(new URL(scene.world.lastOriginRequest().url).host).toBe('origin.example');
  });

  it('a service binding, with the assertion bound to the URL it receives', async () => {
    const gateway = gatewayFor({
      settings: { assertion: {} },
      issuers: issuers(),
      routes: { r: { path: '/svc/*', origin: { service: 'TEST_ORIGIN_SERVICE', strip_path_prefix: '/svc' }, ...guarded } },
    });
    const response = await send(gateway, new Request('https://gw.example/svc/a?z=9', { method: 'POST', body: 'hello', headers: bearer(await token()) }));
    expect(response.status).toBe(200);
    const echoed = (await response.json()) as { url: string; method: string; body: string; headers: Record<string, string> };
    expect(echoed).toMatchObject({ url: 'https://gw.example/a?z=9', method: 'POST', body: 'hello' });
    expect(echoed.headers['x-verified-sub']).toBe('user-1');
    expect(echoed.headers['x-verified-assertion']).toMatch(/^ey/);
  });

  it('an unbound service binding is a 502 with the reason in the log', async () => {
    const gateway = gatewayFor({ routes: { r: { path: '/*', mode: 'public', origin: { service: 'NOT_BOUND' } } } });
    const response = await send(gateway, new Request('https://gw.example/x'));
    expect(response.status).toBe(502);
    expect(scene.logs.last().error).toBe('service binding NOT_BOUND is not bound');
  });

  it('returns a redirect from the origin instead of following it', async () => {
    const gateway = gatewayFor({ routes: { r: { path: '/*', mode: 'public', origin: 'https://redirecting.example' } } });
    const response = await send(gateway, new Request('https://gw.example/x'));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://elsewhere.example/login');
    expect(scene.logs.last().origin_status).toBe(302);
  });

  it('passes a WebSocket upgrade once the token is verified, and refuses it without a token', async () => {
    const gateway = gatewayFor({ issuers: issuers(), routes: { r: { path: '/*', origin: 'https://ws.example', ...guarded } } });
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade' };
    const denied = await send(gateway, new Request('https://gw.example/socket', { headers: upgrade }));
    expect(denied.status).toBe(401);
    const accepted = await send(gateway, new Request('https://gw.example/socket', { headers: { ...upgrade, ...bearer(await token()) } }));
    expect(accepted.status).toBe(101);
    expect(accepted.webSocket).not.toBeNull();
  });
});

describe('origin failures', () => {
  it('an unreachable origin is a 502 with a generic body, the request id, and the reason in the log', async () => {
    const gateway = gatewayFor({ routes: { r: { path: '/*', mode: 'public', origin: 'https://nowhere.example' } } });
    const response = await send(gateway, new Request('https://gw.example/x', { headers: { 'cf-ray': '0000000000000502-AMS' } }));
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: 'bad_gateway', error_description: 'The origin could not be reached.', request_id: '0000000000000502-AMS' });
    expect(scene.logs.last()).toMatchObject({ status: 502, origin_status: null, error: 'origin unreachable: TypeError', request_id: '0000000000000502-AMS' });
  });

  it('an origin that does not answer within origin_timeout_ms is a 504', async () => {
    const gateway = gatewayFor({ routes: { r: { path: '/*', mode: 'public', origin: 'https://slow.example', origin_timeout_ms: 50 } } });
    const response = await send(gateway, new Request('https://gw.example/x'));
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: 'gateway_timeout', error_description: 'The origin did not answer in time.' });
    expect(scene.logs.last()).toMatchObject({ status: 504, error: 'origin timeout: no response in 50 ms' });
  });
});

describe('the request id', () => {
  const policy = (requestIdHeader?: string) => ({
    settings: requestIdHeader ? { request_id_header: requestIdHeader } : {},
    routes: { r: { path: '/*', mode: 'public', origin: 'https://origin.example' } },
  });

  it('comes from cf-ray and reaches the origin and the log', async () => {
    await send(gatewayFor(policy()), new Request('https://gw.example/x', { headers: { 'cf-ray': '0000000000000001-AMS', 'x-request-id': 'client-1' } }));
    expect(scene.world.lastOriginRequest().headers['x-verified-request-id']).toBe('0000000000000001-AMS');
    expect(scene.logs.last().request_id).toBe('0000000000000001-AMS');
  });

  it('never from a cf-ray that is not a Cloudflare ray id (client input off the platform): a fresh UUID instead, at the origin and in the log', async () => {
    await send(gatewayFor(policy()), new Request('https://gw.example/x', { headers: { 'cf-ray': 'admin' } }));
    const id = scene.logs.last().request_id;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(scene.world.lastOriginRequest().headers['x-verified-request-id']).toBe(id);
  });

  it('comes from the configured header when its value is sane, else from cf-ray', async () => {
    const gateway = gatewayFor(policy('x-request-id'));
    await send(gateway, new Request('https://gw.example/x', { headers: { 'cf-ray': '0000000000000002-AMS', 'x-request-id': 'client-2' } }));
    expect(scene.world.lastOriginRequest().headers['x-verified-request-id']).toBe('client-2');
    expect(scene.logs.last().request_id).toBe('client-2');
    await send(gateway, new Request('https://gw.example/x', { headers: { 'cf-ray': '0000000000000003-AMS', 'x-request-id': 'has space' } }));
    expect(scene.logs.last().request_id).toBe('0000000000000003-AMS');
    expect(scene.world.lastOriginRequest().headers['x-verified-request-id']).toBe('0000000000000003-AMS');
  });

  it('is in the body of an error answer', async () => {
    const gateway = gatewayFor({ ...policy('x-request-id'), routes: { r: { path: '/only', mode: 'public', origin: 'https://origin.example' } } });
    const response = await send(gateway, new Request('https://gw.example/other', { headers: { 'x-request-id': 'client-404' } }));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ request_id: 'client-404' });
  });
});

it('the workerd env carries a signing key for the Worker (vitest.config.ts makes one per run)', () => {
  expect(JSON.parse((env as { GATEWAY_SIGNING_KEY?: string }).GATEWAY_SIGNING_KEY!)).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: 'test-gateway' });
});
