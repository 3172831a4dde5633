/** Route modes (report-only, optional), CORS preflight pass-through and HMAC issuers, through the gateway. */
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const ISS = 'https://id.corp.example/';
const JWKS = 'https://id.corp.example/jwks';
const SECRET = 'k9YhR2vQx7LmN4pT8wZ3bC6dF1gJ5sA0'; // 32 bytes: the HS256 minimum
let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;

const route = { issuers: ['corp'], audiences: ['api'], origin: 'https://origin.example' };
beforeAll(async () => {
  key = await makeKey('RS256', 'corp-1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(key)).origin('origin.example').install();
  logs = new RecordCapture();
  gateway = gatewayFor({
    issuers: {
      corp: { issuer: ISS, jwks_uri: JWKS },
      down: { issuer: 'https://down.example', jwks_uri: 'https://down.example/jwks' },
      legacy: { issuer: 'https://legacy.example', secret_binding: 'LEGACY_SECRET', algorithms: ['HS256'] },
    },
    routes: {
      enforce: { path: '/enforce/*', ...route, cors_preflight: true },
      plain: { path: '/plain/*', ...route },
      report: { path: '/report/*', mode: 'report-only', ...route, scopes: ['beta'] },
      'report-down': { path: '/report-down/*', mode: 'report-only', ...route, issuers: ['down'] },
      optional: { path: '/optional/*', mode: 'optional', ...route },
      legacy: { path: '/legacy/*', ...route, issuers: ['legacy'] },
    },
  });
});
afterAll(() => {
  world.restore();
  logs.restore();
});
afterEach(() => {
  world.originRequests.length = 0;
});

const claims = (extra: object = {}) => ({ iss: ISS, aud: 'api', sub: 'alice', iat: nowSeconds(), exp: nowSeconds() + 60, ...extra });
const FORGED = { 'x-verified-sub': 'admin', 'x-verified-scope': 'everything' };
const call = (path: string, init: RequestInit = {}, bindings = {}) => send(gateway, new Request(`https://gw.example${path}`, init), bindings);
const forwardedIdentity = () =>
  Object.fromEntries(Object.entries(world.lastOriginRequest().headers).filter(([name]) => ['x-verified-sub', 'x-verified-scope', 'x-verified-iss'].includes(name)));

describe('report-only', () => {
  it('forwards a request without a token, logs token_missing, and strips forged identity headers', async () => {
    const response = await call('/report/x', { headers: FORGED });
    expect(response.status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'report_only', status: 200, findings: [{ code: 'token_missing' }] });
    expect(forwardedIdentity()).toEqual({});
  });

  it('forwards a token that enforce would deny, with every finding logged and no identity', async () => {
    const token = await sign(key, claims({ aud: 'other' }));
    expect((await call('/report/x', { headers: bearer(token) })).status).toBe(200);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['audience_mismatch', 'scope_insufficient']);
    expect(logs.last().outcome).toBe('report_only');
    expect(forwardedIdentity()).toEqual({});
  });

  it('forwards a valid token with its identity, as enforce would', async () => {
    const token = await sign(key, claims({ scope: 'beta' }));
    expect((await call('/report/x', { headers: { ...bearer(token), ...FORGED } })).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed', findings: [] });
    expect(forwardedIdentity()).toEqual({ 'x-verified-sub': 'alice', 'x-verified-scope': 'beta', 'x-verified-iss': ISS });
  });

  it('still forwards when the keys cannot be had (keys_unavailable is logged, never a 503)', async () => {
    const token = await sign(key, { ...claims(), iss: 'https://down.example' });
    const response = await call('/report-down/x', { headers: bearer(token) });
    expect(response.status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'report_only', findings: [{ code: 'keys_unavailable' }] });
  });
});

describe('optional', () => {
  it('forwards a request without a token as anonymous, forged identity headers stripped', async () => {
    expect((await call('/optional/x', { headers: FORGED })).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'anonymous', findings: [] });
    expect(forwardedIdentity()).toEqual({});
  });

  it('forwards a valid token with its identity', async () => {
    expect((await call('/optional/x', { headers: bearer(await sign(key, claims())) })).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed' });
    expect(forwardedIdentity()).toMatchObject({ 'x-verified-sub': 'alice' });
  });

  it.each<[string, () => Promise<HeadersInit>, number, string]>([
    ['an expired token', async () => bearer(await sign(key, claims({ exp: nowSeconds() - 3600, iat: nowSeconds() - 7200 }))), 401, 'token_expired'],
    ['a token for another audience', async () => bearer(await sign(key, claims({ aud: 'other' }))), 401, 'audience_mismatch'],
    ['a malformed token', async () => bearer('not.a.jwt'), 401, 'token_malformed'],
    ['a token with a bad signature', async () => bearer((await sign(key, claims())).slice(0, -4) + 'AAAA'), 401, 'signature_invalid'],
  ])('denies %s (a token that is sent must be valid)', async (_name, headers, status, code) => {
    expect((await call('/optional/x', { headers: await headers() })).status).toBe(status);
    expect(logs.last()).toMatchObject({ outcome: 'denied', findings: [expect.objectContaining({ code })] });
    expect(world.originRequests).toHaveLength(0);
  });
});

describe('CORS preflight pass-through', () => {
  const preflight = { origin: 'https://app.example', 'access-control-request-method': 'PUT', ...FORGED };

  it('forwards a preflight without a token on a route that opts in, identity headers stripped', async () => {
    const response = await call('/enforce/x', { method: 'OPTIONS', headers: preflight });
    expect(response.status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'preflight', findings: [], sub: null });
    expect(world.lastOriginRequest().method).toBe('OPTIONS');
    expect(forwardedIdentity()).toEqual({});
  });

  it.each<[string, string, RequestInit]>([
    ['on a route that does not opt in', '/plain/x', { method: 'OPTIONS', headers: preflight }],
    ['for an OPTIONS without Access-Control-Request-Method', '/enforce/x', { method: 'OPTIONS', headers: { origin: 'https://app.example' } }],
    ['for an OPTIONS without Origin', '/enforce/x', { method: 'OPTIONS', headers: { 'access-control-request-method': 'PUT' } }],
    ['for a GET carrying preflight headers', '/enforce/x', { method: 'GET', headers: preflight }],
  ])('still requires a token %s', async (_name, path, init) => {
    expect((await call(path, init)).status).toBe(401);
    expect(logs.last()).toMatchObject({ outcome: 'denied', findings: [{ code: 'token_missing' }] });
  });
});

describe('an HMAC issuer with its secret in a Worker secret', () => {
  const hmacToken = async (secret: string, alg = 'HS256', extra: object = {}) => {
    const hash = { HS256: 'SHA-256', HS384: 'SHA-384' }[alg]!;
    const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash }, false, ['sign']);
    return new SignJWT({ ...claims(), iss: 'https://legacy.example', ...extra }).setProtectedHeader({ alg }).sign(k);
  };

  it('accepts a token signed with the secret, and never logs the secret', async () => {
    const response = await call('/legacy/x', { headers: bearer(await hmacToken(SECRET)) }, { LEGACY_SECRET: SECRET });
    expect(response.status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed', alg: 'HS256', iss: 'https://legacy.example' });
    expect(JSON.stringify(logs.records)).not.toContain(SECRET);
  });

  it.each<[string, () => Promise<string>, Record<string, unknown>, number, string]>([
    ['another secret', () => hmacToken('x'.repeat(32)), { LEGACY_SECRET: SECRET }, 401, 'signature_invalid'],
    ['an algorithm the issuer does not allow', () => hmacToken(SECRET, 'HS384'), { LEGACY_SECRET: SECRET }, 401, 'alg_not_allowed'],
    ['an RS256 token claiming the HMAC issuer', () => sign(key, { ...claims(), iss: 'https://legacy.example' }), { LEGACY_SECRET: SECRET }, 401, 'alg_not_allowed'],
    ['the Worker secret missing', () => hmacToken(SECRET), { LEGACY_SECRET: undefined }, 503, 'keys_unavailable'],
    ['a Worker secret shorter than 32 bytes', () => hmacToken('short'), { LEGACY_SECRET: 'short' }, 503, 'keys_unavailable'],
  ])('refuses with %s', async (_name, token, bindings, status, code) => {
    const response = await call('/legacy/x', { headers: bearer(await token()) }, bindings);
    expect(response.status).toBe(status);
    expect(logs.last().findings.map((f) => f.code)).toEqual([code]);
    if (status === 503) expect(response.headers.get('retry-after')).toBe('30');
  });
});
