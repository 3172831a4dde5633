/**
 * The README walk-through, through the Worker's own entry point with the compiled demo policies
 * (policies/demo.jsonc). The demo issuer and echo origin are stood in for at their loopback addresses.
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../helpers/gateway.ts';
import { demoClaims, jwksOf, makeKey, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';

const JWKS_URL = 'http://127.0.0.1:8788/.well-known/jwks.json';
const GATEWAY = 'http://gateway.test';

let rs256: TestKey;
let es256: TestKey;
let eddsa: TestKey;

beforeAll(async () => {
  [rs256, es256, eddsa] = await Promise.all([makeKey('RS256', 'demo-rs256'), makeKey('ES256', 'demo-es256'), makeKey('EdDSA', 'demo-eddsa')]);
});
const scene = useOutsideWorld(() => new OutsideWorld().serveJwks(JWKS_URL, jwksOf(rs256, es256, eddsa)).origin('127.0.0.1:8789'));

const typed = { header: { typ: 'at+jwt' } };
const call = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`${GATEWAY}${path}`, init));

describe('the demo walk-through', () => {
  it('forwards a billing token on /billing/x to the echo origin with the verified identity', async () => {
    const token = await sign(rs256, demoClaims({ app_id: 'billing' }), typed);
    const response = await call('/billing/x?q=1', { headers: { ...bearer(token), 'x-verified-sub': 'admin' } });
    expect(response.status).toBe(200);
    const seen = scene.world.lastOriginRequest();
    expect(seen.url).toBe('http://127.0.0.1:8789/billing/x?q=1');
    expect(seen.headers['x-verified-sub']).toBe('demo-user');
    expect(seen.headers['x-verified-app']).toBe('billing');
    expect(seen.headers['x-verified-iss']).toBe('http://127.0.0.1:8788');
    expect(seen.headers['x-verified-route']).toBe('billing');
    expect(seen.headers.authorization).toBeUndefined();
    expect(await response.json()).toMatchObject({ path: '/billing/x', headers: { 'x-verified-sub': 'demo-user' } });
    expect(scene.logs.last()).toMatchObject({ outcome: 'allowed', route: 'billing', status: 200, app: 'billing', sub: 'demo-user', findings: [] });
  });

  it('answers a request without a token with 401 and a bare Bearer challenge', async () => {
    const response = await call('/billing/x');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="demo"');
    expect(scene.world.originRequests).toHaveLength(0);
    expect(scene.logs.last().findings).toEqual([{ code: 'token_missing' }]);
  });

  it('rejects a reports token on a billing route although its signature is valid', async () => {
    const token = await sign(rs256, demoClaims({ app_id: 'reports' }), typed);
    const response = await call('/billing/x', { headers: bearer(token) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(scene.world.originRequests).toHaveLength(0);
    expect(scene.logs.last().findings).toEqual([{ code: 'app_mismatch', claim: 'app_id', actual: 'reports', expected: 'billing' }]);
  });

  it('rejects an expired token (exp a minute ago, at the edge of the 60 s skew)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(rs256, demoClaims({ app_id: 'billing', iat: now - 360, exp: now - 60 }), typed);
    const response = await call('/billing/x', { headers: bearer(token) });
    expect(response.status).toBe(401);
    expect(scene.logs.last().findings.map((f) => f.code)).toEqual(['token_expired']);
  });

  it('serves /public/x without a token and strips forged identity headers in any casing', async () => {
    const response = await call('/public/x', { headers: { 'x-verified-sub': 'admin', 'X-Verified-App': 'billing', 'X-VERIFIED-ROUTE': 'billing-admin' } });
    expect(response.status).toBe(200);
    const seen = scene.world.lastOriginRequest();
    expect(seen.headers['x-verified-sub']).toBeUndefined();
    expect(seen.headers['x-verified-app']).toBeUndefined();
    expect(seen.headers['x-verified-route']).toBe('public');
    expect(scene.logs.last()).toMatchObject({ outcome: 'public', route: 'public' });
  });

  it('answers 403 insufficient_scope with the required scope on /billing/admin without billing:admin', async () => {
    const token = await sign(rs256, demoClaims({ app_id: 'billing', scope: 'billing:read' }), typed);
    const response = await call('/billing/admin/users', { headers: bearer(token) });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="demo", error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="billing:admin"',
    );
  });

  it('allows /billing/admin with the billing:admin scope', async () => {
    const token = await sign(rs256, demoClaims({ app_id: 'billing', scope: 'billing:read billing:admin' }), typed);
    const response = await call('/billing/admin/users', { headers: bearer(token) });
    expect(response.status).toBe(200);
    expect(scene.world.lastOriginRequest().headers['x-verified-scope']).toBe('billing:read billing:admin');
    expect(scene.logs.last().route).toBe('billing-admin');
  });

  it('denies paths no route matches with 404, before looking at any token', async () => {
    const response = await call('/admin', { headers: bearer('not-even-a-jwt') });
    expect(response.status).toBe(404);
    expect(scene.logs.last().findings).toEqual([{ code: 'route_not_found' }]);
  });

  it.each([
    ['ES256', () => es256],
    ['EdDSA', () => eddsa],
  ])('accepts %s tokens of the demo issuer', async (_alg, key) => {
    const token = await sign(key(), demoClaims({ app_id: 'reports' }), typed);
    const response = await call('/reports/q3', { headers: bearer(token) });
    expect(response.status).toBe(200);
  });

  it('forwards method, query and body unchanged', async () => {
    const token = await sign(rs256, demoClaims({ app_id: 'billing' }), typed);
    const body = JSON.stringify({ amount: 42, note: 'é' });
    const response = await call('/billing/invoices?draft=true&draft=false', { method: 'POST', body, headers: { ...bearer(token), 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
    const seen = scene.world.lastOriginRequest();
    expect(seen).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:8789/billing/invoices?draft=true&draft=false', body });
  });

  it('verifies with keys cached in the isolate: no further JWKS fetch for known kids', async () => {
    const token = await sign(rs256, demoClaims({ app_id: 'billing' }), typed);
    await call('/billing/x', { headers: bearer(token) });
    const before = scene.world.fetchCount(JWKS_URL);
    for (let i = 0; i < 3; i++) expect((await call('/billing/x', { headers: bearer(token) })).status).toBe(200);
    expect(scene.world.fetchCount(JWKS_URL)).toBe(before);
    expect(before).toBe(1);
    expect(scene.logs.last().key_layer).toBe('memory');
  });

  it('answers garbage in the Authorization header with 4xx, never 5xx, and no key fetch', async () => {
    const before = scene.world.fetchCount();
    const garbage = ['Bearer', 'Bearer ', 'Bearer a.b', 'Bearer a.b.c.d.e', 'Bearer ....', 'Bearer \u00e9.\u00e9.\u00e9', 'Bearer a b', 'Basic dXNlcjpwYXNz', 'Bearer eyJhbGciOiJub25lIn0.e30.'];
    for (const authorization of garbage) {
      const response = await call('/billing/x', { headers: { authorization } });
      expect(response.status, authorization).toBeGreaterThanOrEqual(400);
      expect(response.status, authorization).toBeLessThan(500);
      expect(response.headers.get('www-authenticate'), authorization).toMatch(/^Bearer realm="demo"/);
    }
    expect(scene.world.fetchCount()).toBe(before);
    expect(scene.world.originRequests).toHaveLength(0);
  });

  it('answers 502 when the origin cannot be reached, and says so in the log', async () => {
    scene.world.restore();
    const offline = new OutsideWorld().install(); // nothing answers anywhere now
    try {
      const response = await call('/public/x');
      expect(response.status).toBe(502);
      expect(scene.logs.last()).toMatchObject({ status: 502, outcome: 'public', error: expect.stringMatching(/^origin unreachable/) });
    } finally {
      offline.restore();
      scene.world.install();
    }
  });
});
