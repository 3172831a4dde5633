/**
 * token_sources through the Gateway in workerd: each source accepted on the route that lists it and refused
 * where it is not listed; the consumed credential absent at the origin while every other header and cookie
 * arrives as sent; the CSRF check of cookie-borne tokens; a WebSocket authenticated by its subprotocol; the
 * opt-in query source.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';

const IDP = 'https://idp.example/';
let idpKey: TestKey;
let token: string;
let other: string;
/** What the WebSocket origin was offered, per upgrade. */
const offered: (string | null)[] = [];

beforeAll(async () => {
  idpKey = await makeKey('ES256', 'idp-1');
  const now = nowSeconds();
  token = await sign(idpKey, { iss: IDP, aud: 'api', sub: 'user-1', iat: now, exp: now + 300 });
  other = await sign(idpKey, { iss: IDP, aud: 'api', sub: 'user-2', iat: now, exp: now + 300 });
});
const scene = useOutsideWorld(() =>
  new OutsideWorld().origin('origin.example').originHandler('ws.example', (request) => {
    if (request.headers.get('upgrade') !== 'websocket') return new Response('upgrade required', { status: 426 });
    offered.push(request.headers.get('sec-websocket-protocol'));
    const [client, server] = Object.values(new WebSocketPair());
    server!.accept();
    // Like a server that speaks v4.channel.k8s.io: it picks it when offered.
    const protocol = request.headers.get('sec-websocket-protocol')?.includes('v4.channel.k8s.io') ? { 'sec-websocket-protocol': 'v4.channel.k8s.io' } : undefined;
    return new Response(null, { status: 101, webSocket: client!, headers: protocol });
  }),
);

const k8s = (value: string) => `base64url.bearer.authorization.k8s.io.${btoa(value).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
const guarded = { issuers: ['idp'], audiences: ['api'], origin: 'https://origin.example' };
const policy = () => ({
  issuers: { idp: { issuer: IDP, keys: [idpKey.publicJwk], algorithms: ['ES256'] } },
  routes: {
    bearer: { path: '/bearer/*', ...guarded },
    header: { path: '/header/*', ...guarded, token_sources: [{ kind: 'header', name: 'X-Api-Token', scheme: 'Token' }] },
    cookie: { path: '/cookie/*', ...guarded, token_sources: [{ kind: 'authorization' }, { kind: 'cookie', name: 'session' }], csrf_origins: ['https://app.example'] },
    optional: { path: '/optional/*', ...guarded, mode: 'optional', token_sources: [{ kind: 'cookie', name: 'session' }] },
    report: { path: '/report/*', ...guarded, mode: 'report-only', token_sources: [{ kind: 'cookie', name: 'session' }] },
    socket: { path: '/socket/*', ...guarded, origin: 'https://ws.example', token_sources: [{ kind: 'websocket_protocol' }] },
    query: { path: '/query/*', ...guarded, token_sources: [{ kind: 'query', name: 'access_token', unsafe: true }] },
    open: { path: '/open/*', mode: 'public', origin: 'https://origin.example' },
  },
});
let gateway: ReturnType<typeof gatewayFor>;
beforeAll(() => {
  gateway = gatewayFor(policy());
});
const call = (path: string, init: RequestInit = {}) => send(gateway, new Request(`https://gw.example${path}`, init));

describe('each source, on its route and elsewhere', () => {
  const SOURCES: [string, string, Record<string, string>, string][] = [
    ['the bearer', '/bearer/x', bearer('$T'), 'authorization'],
    ['a header with its scheme', '/header/x', { 'x-api-token': 'Token $T' }, 'header:x-api-token'],
    ['a cookie', '/cookie/x', { cookie: 'session=$T' }, 'cookie:session'],
  ];
  it.each(SOURCES)('accepts %s on its route, and the record names the source', async (_name, path, headers, label) => {
    const response = await call(path, { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('$T', token)])) });
    expect(response.status).toBe(200);
    expect(scene.logs.last()).toMatchObject({ outcome: 'allowed', token_source: label, sub: 'user-1' });
    expect(JSON.stringify(scene.logs.last())).not.toContain(token);
  });

  it.each([
    ['a header token on the bearer route', '/bearer/x', { 'x-api-token': 'Token $T' }],
    ['a cookie token on the bearer route', '/bearer/x', { cookie: 'session=$T' }],
    ['a bearer on the header route', '/header/x', { authorization: 'Bearer $T' }],
    ['a cookie on the header route', '/header/x', { cookie: 'session=$T' }],
    ['a query token on the cookie route', '/cookie/x?access_token=$T', {}],
  ])('refuses %s (401, token_missing or request_invalid), and nothing reaches the origin', async (_name, path, headers) => {
    const response = await call(path.replace('$T', token), { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('$T', token)])) });
    expect([400, 401]).toContain(response.status);
    expect(scene.world.originRequests).toHaveLength(0);
    expect(['token_missing', 'request_invalid']).toContain(scene.logs.last().finding);
  });

  it('refuses two different tokens in two sources with 400 request_invalid', async () => {
    const response = await call('/cookie/x', { headers: { ...bearer(token), cookie: `session=${other}` } });
    expect(response.status).toBe(400);
    expect(scene.logs.last().finding).toBe('request_invalid');
  });

  it('refuses two cookies of the name with different values', async () => {
    const response = await call('/cookie/x', { headers: { cookie: `session=${token}; session=${other}` } });
    expect(response.status).toBe(400);
  });

  it('takes the same token in two sources as one', async () => {
    const response = await call('/cookie/x', { headers: { ...bearer(token), cookie: `session=${token}` } });
    expect(response.status).toBe(200);
    expect(scene.logs.last().token_source).toBe('authorization');
  });

  it('keeps an optional route closed to a present but malformed cookie', async () => {
    expect((await call('/optional/x', { headers: { cookie: 'a=1; session=' } })).status).toBe(401);
    expect(scene.logs.last().finding).toBe('token_malformed');
    expect((await call('/optional/x', { headers: { cookie: 'a=1; session=not-a-jwt' } })).status).toBe(401);
    expect((await call('/optional/x', { headers: { cookie: 'a=1' } })).status).toBe(200);
    expect(scene.logs.last().outcome).toBe('anonymous');
  });
});

describe('the origin never sees the credential, and sees everything else as sent', () => {
  const others = { 'x-trace': 'abc', accept: 'application/json', 'x-api-token-hint': 'keep' };

  it('a header token: the header removed, the rest unchanged', async () => {
    await call('/header/x', { headers: { ...others, 'x-api-token': `Token ${token}`, cookie: 'a=1; b=2' } });
    const received = scene.world.lastOriginRequest().headers;
    expect(received['x-api-token']).toBeUndefined();
    expect(received).toMatchObject({ ...others, cookie: 'a=1; b=2' });
    expect(JSON.stringify(received)).not.toContain(token);
  });

  it.each([
    ['first', `session=$T; theme=dark; b="q r"`, 'theme=dark; b="q r"'],
    ['middle', `a=%20x;session=$T;  z=1`, 'a=%20x;  z=1'],
    ['last', `a=1; session=$T`, 'a=1'],
  ])('a cookie token (%s): its pair removed from Cookie, every other cookie byte for byte', async (_where, cookie, rest) => {
    await call('/cookie/x', { headers: { ...others, cookie: cookie.replace('$T', token) } });
    const received = scene.world.lastOriginRequest().headers;
    expect(received.cookie).toBe(rest);
    expect(received).toMatchObject(others);
    expect(JSON.stringify(received)).not.toContain(token);
  });

  it('a cookie that was the only one: no Cookie header at all', async () => {
    await call('/cookie/x', { headers: { cookie: `session=${token}` } });
    expect(scene.world.lastOriginRequest().headers.cookie).toBeUndefined();
  });

  it('a cookie route with a bearer: the cookie of that name is removed all the same', async () => {
    await call('/cookie/x', { headers: { ...bearer(token), cookie: `session=${token}; a=1` } });
    const received = scene.world.lastOriginRequest().headers;
    expect(received.cookie).toBe('a=1');
    expect(received.authorization).toBeUndefined();
  });

  it('a report-only route forwards a bad cookie but never the cookie itself', async () => {
    const response = await call('/report/x', { method: 'POST', headers: { cookie: `session=${token}; a=1` } });
    expect(response.status).toBe(200);
    expect(scene.logs.last()).toMatchObject({ outcome: 'report_only', finding: 'csrf_check_failed' });
    expect(scene.world.lastOriginRequest().headers.cookie).toBe('a=1');
  });
});

describe('CSRF: a cookie-borne token on an unsafe method', () => {
  const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];
  const cookie = () => ({ cookie: `session=${token}` });

  it.each(METHODS)('%s without Sec-Fetch-Site or Origin: 403 csrf_check_failed, nothing forwarded', async (method) => {
    const response = await call('/cookie/x', { method, headers: cookie() });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toMatchObject({ error: 'forbidden' });
    expect(scene.logs.last()).toMatchObject({ finding: 'csrf_check_failed', token_source: 'cookie:session' });
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it.each(METHODS)('%s cross-site, from an Origin not allowed: 403', async (method) => {
    const response = await call('/cookie/x', { method, headers: { ...cookie(), 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } });
    expect(response.status).toBe(403);
  });

  it.each(METHODS.flatMap((method) => [
    [method, { 'sec-fetch-site': 'same-origin' }],
    [method, { 'sec-fetch-site': 'same-site' }],
    [method, { origin: 'https://app.example' }],
    [method, { 'sec-fetch-site': 'cross-site', origin: 'https://app.example' }],
  ] as [string, Record<string, string>][]))('%s with %j: forwarded', async (method, headers) => {
    const response = await call('/cookie/x', { method, headers: { ...cookie(), ...headers }, body: method === 'DELETE' ? null : 'x' });
    expect(response.status).toBe(200);
    expect(scene.world.lastOriginRequest().method).toBe(method);
  });

  it.each(METHODS)('%s with a bearer on the same route needs no CSRF check', async (method) => {
    const response = await call('/cookie/x', { method, headers: bearer(token) });
    expect(response.status).toBe(200);
  });

  it('GET with a cookie needs none', async () => {
    expect((await call('/cookie/x', { headers: cookie() })).status).toBe(200);
  });
});

describe('a WebSocket authenticated by its subprotocol', () => {
  const upgrade = { upgrade: 'websocket', connection: 'Upgrade' };

  it('101 with the protocol the origin chose, which never saw the bearer entry', async () => {
    offered.length = 0;
    const response = await call('/socket/x', { headers: { ...upgrade, 'sec-websocket-protocol': `${k8s(token)}, v4.channel.k8s.io` } });
    expect(response.status).toBe(101);
    expect(response.webSocket).not.toBeNull();
    expect(response.headers.get('sec-websocket-protocol')).toBe('v4.channel.k8s.io');
    expect(offered).toEqual(['v4.channel.k8s.io']);
    expect(scene.logs.last().token_source).toBe('websocket_protocol');
  });

  it('101 answering the one protocol offered when the bearer entry was all the client offered', async () => {
    offered.length = 0;
    const response = await call('/socket/x', { headers: { ...upgrade, 'sec-websocket-protocol': k8s(token) } });
    expect(response.status).toBe(101);
    expect(response.headers.get('sec-websocket-protocol')).toBe(k8s(token));
    expect(offered).toEqual([null]);
  });

  it('refused without the entry (401), and with a cookie or bearer the route does not list', async () => {
    expect((await call('/socket/x', { headers: { ...upgrade, 'sec-websocket-protocol': 'v4.channel.k8s.io' } })).status).toBe(401);
    expect((await call('/socket/x', { headers: { ...upgrade, ...bearer(token) } })).status).toBe(401);
    expect((await call('/socket/x', { headers: { ...upgrade, 'sec-websocket-protocol': `${k8s('not-a-jwt')}` } })).status).toBe(401);
    expect(scene.logs.last().finding).toBe('token_malformed');
  });
});

describe('the query source (opt-in, unsafe)', () => {
  it('reads the token on its route and forwards the query without it', async () => {
    const response = await call(`/query/x?a=1&access_token=${token}&b=2`);
    expect(response.status).toBe(200);
    expect(scene.world.lastOriginRequest().url).toBe('https://origin.example/query/x?a=1&b=2');
    expect(scene.logs.last()).toMatchObject({ token_source: 'query:access_token', path: '/query/x' });
  });

  it('still refuses access_token in the query of every other route, public ones included (400)', async () => {
    for (const path of ['/bearer/x', '/open/x']) {
      const response = await call(`${path}?access_token=${token}`, { headers: bearer(token) });
      expect(response.status).toBe(400);
      expect(scene.logs.last().finding).toBe('request_invalid');
    }
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it('still refuses access_token in a form body, on the query route too', async () => {
    const response = await call('/query/x', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${token}` });
    expect(response.status).toBe(400);
  });
});

describe("a route that reads its issuers' sources", () => {
  it("takes each issuer's token only from that issuer's own sources", async () => {
    const now = nowSeconds();
    const partnerToken = await sign(idpKey, { iss: 'https://partner.example/', aud: 'api', sub: 'p-1', iat: now, exp: now + 300 });
    const mixed = gatewayFor({
      issuers: {
        idp: { issuer: IDP, keys: [idpKey.publicJwk], algorithms: ['ES256'] },
        partner: { issuer: 'https://partner.example/', keys: [idpKey.publicJwk], algorithms: ['ES256'], token_sources: [{ kind: 'header', name: 'x-partner-token' }] },
      },
      routes: { r: { path: '/*', issuers: ['idp', 'partner'], audiences: ['api'], origin: 'https://origin.example' } },
    });
    const at = (headers: Record<string, string>) => send(mixed, new Request('https://gw.example/x', { headers }));
    // A token never seen: judged by the full path.
    const fresh = await sign(idpKey, { iss: IDP, aud: 'api', sub: 'user-3', iat: now, exp: now + 300 });
    expect((await at({ 'x-partner-token': fresh })).status).toBe(401);
    expect(scene.logs.last()).toMatchObject({ finding: 'issuer_mismatch', token_cache: 'miss' });
    expect((await at(bearer(token))).status).toBe(200);
    expect((await at({ 'x-partner-token': partnerToken })).status).toBe(200);
    // Twice each: the second answer comes from the verified-token cache, which must judge the source the same way.
    for (let i = 0; i < 2; i++) {
      expect((await at({ 'x-partner-token': token })).status).toBe(401);
      expect(scene.logs.last()).toMatchObject({ finding: 'issuer_mismatch', token_source: 'header:x-partner-token' });
      expect(scene.logs.last().token_cache).not.toBe('miss');
      expect((await at(bearer(partnerToken))).status).toBe(401);
      expect(scene.logs.last()).toMatchObject({ finding: 'issuer_mismatch', token_source: 'authorization' });
    }
  });
});
