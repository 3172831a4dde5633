/**
 * CORS on the gateway's own answers: a browser app on a listed origin can read the 401/403/503 and its
 * WWW-Authenticate; an origin not on the list is never echoed; preflights are answered by the gateway when
 * the route says so (and then reach neither the token checks nor the origin). Compile-time refusals too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicies } from '../../src/config/compile.ts';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const ISS = 'https://id.example/';
const JWKS = 'https://id.example/jwks';
const DOWN_JWKS = 'https://down.example/jwks';
const APP = 'https://app.example';

let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;

const route = (extra: object) => ({ issuers: ['idp'], audiences: ['api'], origin: 'https://origin.example', ...extra });

beforeAll(async () => {
  key = await makeKey('RS256', 'k1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(key)).down(DOWN_JWKS).origin('origin.example').install();
  logs = new RecordCapture();
  gateway = gatewayFor({
    issuers: { idp: { issuer: ISS, jwks_uri: JWKS }, down: { issuer: 'https://down.example/', jwks_uri: DOWN_JWKS } },
    routes: {
      api: route({ path: '/api/*', scopes: ['orders:read'], cors: { allow_origins: [APP], allow_credentials: true, expose_headers: ['X-Request-Id'], answer_preflight: true, allow_methods: ['GET', 'POST'] } }),
      open: route({ path: '/open/*', cors: { allow_origins: ['*'] } }),
      down: route({ path: '/down/*', issuers: ['down'], cors: { allow_origins: [APP] } }),
      plain: route({ path: '/plain/*' }),
    },
  });
});
afterAll(() => {
  world.restore();
  logs.restore();
});

const token = (extra: object = {}) => sign(key, { iss: ISS, aud: 'api', sub: 'u', iat: nowSeconds(), exp: nowSeconds() + 300, ...extra });
const corsOf = (response: Response) => Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

describe('CORS on the gateway answers', () => {
  it('a listed origin reads a 401 and its challenge', async () => {
    const response = await send(gateway, new Request('https://gw.example/api/orders', { headers: { origin: APP } }));
    expect(response.status).toBe(401);
    expect(corsOf(response)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'www-authenticate, retry-after, x-request-id',
      vary: 'Origin',
    });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });

  it('a listed origin reads a 403 insufficient_scope', async () => {
    const response = await send(gateway, new Request('https://gw.example/api/orders', { headers: { origin: APP, ...bearer(await token({ scope: 'other' })) } }));
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['scope_insufficient']);
  });

  it('a listed origin reads a 503 with Retry-After', async () => {
    const response = await send(gateway, new Request('https://gw.example/down/x', { headers: { origin: APP, ...bearer(await sign(key, { iss: 'https://down.example/', aud: 'api', sub: 'u', exp: nowSeconds() + 60 })) } }));
    expect(response.status).toBe(503);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-expose-headers')).toBe('www-authenticate, retry-after');
  });

  it.each([
    ['another origin', 'https://evil.example'],
    ['the listed origin with a trailing slash', `${APP}/`],
    ['the listed origin in upper case', 'HTTPS://APP.EXAMPLE'],
    ['the literal null origin', 'null'],
  ])('%s is never echoed', async (_name, origin) => {
    const response = await send(gateway, new Request('https://gw.example/api/orders', { headers: { origin } }));
    expect(response.status).toBe(401);
    expect(corsOf(response)).toEqual({ vary: 'Origin' });
  });

  it('"*" echoes any origin, without credentials', async () => {
    const response = await send(gateway, new Request('https://gw.example/open/x', { headers: { origin: 'https://any.example' } }));
    expect(response.status).toBe(401);
    expect(corsOf(response)).toMatchObject({ 'access-control-allow-origin': 'https://any.example' });
    expect(response.headers.has('access-control-allow-credentials')).toBe(false);
  });

  it('a route without cors adds nothing; an allowed request gets the origin\'s own headers only', async () => {
    expect(corsOf(await send(gateway, new Request('https://gw.example/plain/x', { headers: { origin: APP } })))).toEqual({});
    const allowed = await send(gateway, new Request('https://gw.example/api/orders', { headers: { origin: APP, ...bearer(await token({ scope: 'orders:read' })) } }));
    expect(allowed.status).toBe(200);
    expect(allowed.headers.has('access-control-allow-origin')).toBe(false);
  });
});

describe('preflights the gateway answers', () => {
  const preflight = (origin: string, method: string, headers?: string) =>
    new Request('https://gw.example/api/orders', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, ...(headers && { 'access-control-request-headers': headers }) } });

  it('a listed origin asking for an allowed method and headers', async () => {
    const before = world.originRequests.length;
    const response = await send(gateway, preflight(APP, 'POST', 'Authorization, Content-Type'));
    expect(response.status).toBe(204);
    expect(corsOf(response)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    });
    expect(world.originRequests.length).toBe(before);
    expect(logs.last()).toMatchObject({ outcome: 'preflight', route: 'api', findings: [] });
  });

  it.each([
    ['an unlisted origin', 'https://evil.example', 'GET', undefined],
    ['a method not allowed', APP, 'DELETE', undefined],
    ['a header not allowed', APP, 'GET', 'x-custom'],
  ])('%s: 204 without any grant', async (_name, origin, method, headers) => {
    const response = await send(gateway, preflight(origin, method, headers));
    expect(response.status).toBe(204);
    expect(Object.keys(corsOf(response))).toEqual(['vary']);
  });

  it('an OPTIONS that is not a preflight still needs a token', async () => {
    const response = await send(gateway, new Request('https://gw.example/api/orders', { method: 'OPTIONS', headers: { origin: APP } }));
    expect(response.status).toBe(401);
  });

  it('a route without answer_preflight denies the preflight (with CORS headers for a listed origin)', async () => {
    const response = await send(gateway, new Request('https://gw.example/down/x', { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'GET' } }));
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
  });
});

describe('compiling cors', () => {
  const errorsOf = (cors: object, extra: object = {}) => {
    const result = compilePolicies([{ file: 't.jsonc', text: JSON.stringify({ issuers: { idp: { issuer: ISS, jwks_uri: JWKS } }, routes: { r: route({ path: '/r/*', cors, ...extra }) } }) }]);
    return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
  };
  it.each<[string, object, object, string]>([
    ['"*" with credentials', { allow_origins: ['*'], allow_credentials: true }, {}, '/routes/r/cors/allow_origins/0: "*" cannot be combined with "allow_credentials"'],
    ['an origin with a path', { allow_origins: ['https://app.example/'] }, {}, '/routes/r/cors/allow_origins/0: not an origin as browsers send it'],
    ['an origin in upper case', { allow_origins: ['https://App.example'] }, {}, '/routes/r/cors/allow_origins/0: not an origin as browsers send it'],
    ['not a URL', { allow_origins: ['app.example'] }, {}, '/routes/r/cors/allow_origins/0: not an origin as browsers send it'],
    ['answering and forwarding preflights', { allow_origins: [APP], answer_preflight: true }, { cors_preflight: true }, '/routes/r/cors/answer_preflight: the gateway either answers preflights'],
    ['on a public route', { allow_origins: [APP] }, { mode: 'public', issuers: undefined, audiences: undefined }, '/routes/r/cors: a public route checks no token'],
  ])('%s is refused', (_name, cors, extra, message) => {
    const errors = errorsOf(cors, extra);
    expect(errors.some((e) => e.startsWith(message)), errors.join('\n')).toBe(true);
  });
});
