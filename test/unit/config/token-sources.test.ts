import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/config/compile.ts';

const ISSUER = { issuer: 'https://idp.example/', jwks_uri: 'https://idp.example/jwks' };
const ROUTE = { path: '/api/*', issuers: ['idp'], audiences: ['api'], origin: 'https://origin.example' };

function compile(policy: object) {
  return compilePolicies([{ file: 'policies/p.jsonc', text: JSON.stringify(policy) }]);
}
function errorsOf(policy: object) {
  const result = compile(policy);
  return result.ok ? [] : result.errors.map(({ path, message }) => ({ path, message }));
}
function routeOf(policy: object) {
  const result = compile(policy);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config.routes[0]!;
}

describe('token_sources: what compiles', () => {
  it('a route without any compiles exactly as before (no tokenSources: the bearer)', () => {
    expect(routeOf({ issuers: { idp: ISSUER }, routes: { api: ROUTE } })).not.toHaveProperty('tokenSources');
  });

  it('a route that lists only the bearer compiles as if it listed nothing', () => {
    expect(routeOf({ issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, token_sources: [{ kind: 'authorization' }] } } })).not.toHaveProperty('tokenSources');
  });

  it('header names in lower case, cookie names as written, query names in lower case', () => {
    const route = routeOf({
      issuers: { idp: ISSUER },
      routes: { api: { ...ROUTE, token_sources: [{ kind: 'header', name: 'X-Api-Token', scheme: 'Token' }, { kind: 'cookie', name: 'Sess_ID' }, { kind: 'query', name: 'Access_Token', unsafe: true }, { kind: 'websocket_protocol' }] } },
    });
    expect(route.tokenSources).toEqual([{ kind: 'header', name: 'x-api-token', scheme: 'Token' }, { kind: 'cookie', name: 'Sess_ID' }, { kind: 'query', name: 'access_token' }, { kind: 'websocket_protocol' }]);
  });

  it("a route without its own takes its issuers', in the order of issuers, each place once", () => {
    const route = routeOf({
      issuers: { idp: ISSUER, access: { preset: 'cloudflare-access', team: 'acme' }, partner: { ...ISSUER, issuer: 'https://partner.example/', token_sources: [{ kind: 'header', name: 'x-partner-token' }, { kind: 'cookie', name: 'CF_Authorization' }] } },
      routes: { api: { ...ROUTE, issuers: ['idp', 'access', 'partner'] } },
    });
    expect(route.tokenSources).toEqual([
      { kind: 'authorization' },
      { kind: 'header', name: 'cf-access-jwt-assertion' },
      { kind: 'cookie', name: 'CF_Authorization' },
      { kind: 'header', name: 'x-partner-token' },
    ]);
  });

  it("the route's own list wins over its issuers'", () => {
    const route = routeOf({ issuers: { access: { preset: 'cloudflare-access', team: 'acme' } }, routes: { api: { ...ROUTE, issuers: ['access'], token_sources: [{ kind: 'cookie', name: 'CF_Authorization' }] } } });
    expect(route.tokenSources).toEqual([{ kind: 'cookie', name: 'CF_Authorization' }]);
  });

  it('the cloudflare-access preset reads Cf-Access-Jwt-Assertion, then CF_Authorization, and takes common_name as a service subject', () => {
    const result = compile({ issuers: { access: { preset: 'cloudflare-access', team: 'acme' } }, routes: { api: { ...ROUTE, issuers: ['access'] } } });
    expect(result.ok && result.config.issuers.access).toMatchObject({
      tokenSources: [{ kind: 'header', name: 'cf-access-jwt-assertion' }, { kind: 'cookie', name: 'CF_Authorization' }],
      serviceSubject: ['common_name'],
    });
  });
});

describe('token_sources: what the build refuses, with the file, the JSON path and why', () => {
  it.each<[string, object, { path: string; message: string | RegExp }]>([
    ['a query source without "unsafe": true', { ...ROUTE, token_sources: [{ kind: 'query', name: 'access_token' }] }, { path: '/routes/api/token_sources/0', message: /unsafe/ }],
    ['an unknown kind', { ...ROUTE, token_sources: [{ kind: 'body', name: 'token' }] }, { path: '/routes/api/token_sources/0', message: /./ }],
    ['a header without a name', { ...ROUTE, token_sources: [{ kind: 'header' }] }, { path: '/routes/api/token_sources/0', message: /name/ }],
    ['Authorization as a named header', { ...ROUTE, token_sources: [{ kind: 'header', name: 'Authorization' }] }, { path: '/routes/api/token_sources/0', message: 'use {"kind": "authorization"} for the Authorization bearer' }],
    ['Cookie as a named header', { ...ROUTE, token_sources: [{ kind: 'header', name: 'cookie' }] }, { path: '/routes/api/token_sources/0', message: 'use {"kind": "cookie", "name": ...} for a cookie' }],
    ['Sec-WebSocket-Protocol as a named header', { ...ROUTE, token_sources: [{ kind: 'header', name: 'Sec-WebSocket-Protocol' }] }, { path: '/routes/api/token_sources/0', message: /websocket_protocol/ }],
    ['a header in the identity namespace', { ...ROUTE, token_sources: [{ kind: 'header', name: 'x-verified-token' }] }, { path: '/routes/api/token_sources/0', message: /identity namespace/ }],
    ['the same header twice in two casings', { ...ROUTE, token_sources: [{ kind: 'header', name: 'X-Token' }, { kind: 'header', name: 'x-token' }] }, { path: '/routes/api/token_sources/1', message: 'header:x-token is already listed: each place is read once' }],
    ['an empty list', { ...ROUTE, token_sources: [] }, { path: '/routes/api/token_sources', message: /./ }],
    ['csrf_origins without a cookie source', { ...ROUTE, csrf_origins: ['https://app.example'] }, { path: '/routes/api/csrf_origins', message: /no cookie carries/ }],
    ['csrf_origins that are not origins', { ...ROUTE, token_sources: [{ kind: 'cookie', name: 's' }], csrf_origins: ['https://app.example/path'] }, { path: '/routes/api/csrf_origins/0', message: /./ }],
    ['csrf_origins the schema lets through but no URL parser takes (a port out of range)', { ...ROUTE, token_sources: [{ kind: 'cookie', name: 's' }], csrf_origins: ['https://app.example', 'https://app.example:99999'] }, { path: '/routes/api/csrf_origins/1', message: 'csrf origin is not a URL' }],
    ['csrf_origins with credentials, which an origin never carries', { ...ROUTE, token_sources: [{ kind: 'cookie', name: 's' }], csrf_origins: ['https://user:pw@app.example'] }, { path: '/routes/api/csrf_origins/0', message: 'csrf origin may not carry a query, fragment or credentials' }],
    ['token_sources on a public route', { path: '/api/*', mode: 'public', origin: 'https://origin.example', token_sources: [{ kind: 'cookie', name: 's' }] }, { path: '/routes/api/token_sources', message: 'a public route reads no token, so "token_sources" would change nothing' }],
  ])('%s', (_name, route, expected) => {
    const errors = errorsOf({ issuers: { idp: ISSUER }, routes: { api: route } });
    expect(errors).toContainEqual({ path: expected.path, message: typeof expected.message === 'string' ? expected.message : expect.stringMatching(expected.message) });
  });

  it('an issuer source is reported at the issuer', () => {
    expect(errorsOf({ issuers: { idp: { ...ISSUER, token_sources: [{ kind: 'header', name: 'authorization' }] } }, routes: { api: ROUTE } })).toContainEqual({
      path: '/issuers/idp/token_sources/0',
      message: 'use {"kind": "authorization"} for the Authorization bearer',
    });
  });
});

describe('csrf_origins', () => {
  it('are kept as browsers serialize Origin: lower case, without a default port', () => {
    const route = routeOf({ issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, token_sources: [{ kind: 'cookie', name: 's' }], csrf_origins: ['https://App.Example.com:443', 'http://localhost:8080'] } } });
    expect(route.csrfOrigins).toEqual(['https://app.example.com', 'http://localhost:8080']);
  });
});
