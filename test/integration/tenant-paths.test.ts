/**
 * One route serves every tenant: `/tenants/{tenant}/*` bound to the token's `org_id` (Auth0 Organizations'
 * claim), a 403 role rule on the admin paths and an any-of scope list on the directory, through the Worker.
 * The cross-tenant matrix: every tenant's token is accepted on its own paths and refused, 403
 * path_variable_mismatch with the signature verified, on every other tenant's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const ISS = 'https://acme-platform.eu.auth0.example/';
const JWKS = `${ISS}.well-known/jwks.json`;
const AUD = 'https://api.platform.example';
const TENANTS = ['org_Acme1', 'org_globex', 'org_initech', 'org_umbrella'];
const PATHS = (tenant: string) => [
  { method: 'GET', url: `https://api.example/tenants/${tenant}` },
  { method: 'GET', url: `https://api.example/tenants/${tenant}/orders/7` },
  { method: 'HEAD', url: `https://api.example/tenants/${tenant}/orders/` },
  { method: 'POST', url: `https://api.example/tenants/${tenant}/admin/users` },
];

let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;
const tokens: Record<string, string> = {};

const mint = (claims: object) => sign(key, { iss: ISS, aud: AUD, sub: 'user-1', iat: nowSeconds(), exp: nowSeconds() + 300, ...claims });

beforeAll(async () => {
  key = await makeKey('RS256', 'auth0-1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(key)).origin('origin.example').install();
  logs = new RecordCapture();
  const r = (extra: object) => ({ issuers: ['auth0'], audiences: [AUD], origin: 'https://origin.example', ...extra });
  const bindOrg = { claim: 'org_id', equals_path_variable: 'tenant' };
  gateway = gatewayFor({
    issuers: { auth0: { issuer: ISS, jwks_uri: JWKS } },
    routes: {
      tenant: r({ path: '/tenants/{tenant}/*', claims: [bindOrg] }),
      'tenant-admin': r({ path: '/tenants/{tenant}/admin/*', claims: [bindOrg, { claim: 'roles', contains: 'admin', status: 403 }] }),
      directory: r({ path: '/tenants', scopes_any: ['tenants:list', 'tenants:admin'] }),
    },
  });
  for (const tenant of TENANTS) tokens[tenant] = await mint({ org_id: tenant, roles: ['admin'] });
});
afterAll(() => {
  world.restore();
  logs.restore();
});

const cells = TENANTS.flatMap((holder) => TENANTS.flatMap((target) => PATHS(target).map((request) => ({ holder, target, ...request, own: holder === target }))));

describe('cross-tenant matrix', () => {
  it.each(cells)('a $holder token on $method $url -> own: $own', async ({ holder, target, method, url, own }) => {
    const reachedOrigin = world.originRequests.length;
    const response = await send(gateway, new Request(url, { method, headers: bearer(tokens[holder]!) }));
    const record = logs.last();
    expect(world.originRequests.length - reachedOrigin).toBe(own ? 1 : 0);
    expect(record.path_variables).toEqual({ tenant: target });
    if (own) {
      expect(response.status).toBe(200);
      expect(record).toMatchObject({ outcome: 'allowed', findings: [] });
      return;
    }
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api", error="insufficient_scope", error_description="The access token does not permit this request."');
    // The signature verified: the refusal is about which tenant the token belongs to, nothing else.
    expect(record.key_layer).not.toBeNull();
    expect(record.findings).toEqual([{ code: 'path_variable_mismatch', claim: 'org_id', actual: holder, expected: target, detail: '{tenant}' }]);
  });
});

describe('roles and any-of scopes', () => {
  it('a member without the admin role gets 403 claim_insufficient on the admin paths, 200 elsewhere in its tenant', async () => {
    const member = await mint({ org_id: 'org_globex', roles: ['member'] });
    const admin = await send(gateway, new Request('https://api.example/tenants/org_globex/admin/users', { method: 'POST', headers: bearer(member) }));
    expect(admin.status).toBe(403);
    expect(await admin.json()).toMatchObject({ error: 'insufficient_scope', error_description: 'The access token does not permit this request.' });
    expect(logs.last()).toMatchObject({ outcome: 'denied', route: 'tenant-admin', findings: [{ code: 'claim_insufficient', claim: 'roles', actual: ['member'], expected: 'admin', detail: 'claim_mismatch' }] });
    const orders = await send(gateway, new Request('https://api.example/tenants/org_globex/orders', { headers: bearer(member) }));
    expect(orders.status).toBe(200);
  });

  it('a member of another tenant without the role: both findings, one 403', async () => {
    const member = await mint({ org_id: 'org_globex', roles: ['member'] });
    const response = await send(gateway, new Request('https://api.example/tenants/org_initech/admin/x', { headers: bearer(member) }));
    expect(response.status).toBe(403);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['path_variable_mismatch', 'claim_insufficient']);
  });

  it('an expired token on its own tenant is 401 invalid_token, not 403', async () => {
    const expired = await mint({ org_id: 'org_globex', iat: nowSeconds() - 1000, exp: nowSeconds() - 500 });
    const response = await send(gateway, new Request('https://api.example/tenants/org_initech/x', { headers: bearer(expired) }));
    expect(response.status).toBe(401);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['token_expired', 'path_variable_mismatch']);
  });

  it.each([
    ['tenants:list', 200],
    ['tenants:admin other', 200],
    ['orders:read', 403],
  ])('scopes_any on /tenants with scope "%s" -> %i', async (scope, status) => {
    const response = await send(gateway, new Request('https://api.example/tenants', { headers: bearer(await mint({ scope })) }));
    expect(response.status).toBe(status);
    if (status === 403) {
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required scope."');
      expect(logs.last().findings).toEqual([{ code: 'scope_insufficient', claim: 'scope', expected: ['tenants:list', 'tenants:admin'], actual: ['orders:read'], detail: 'none of scopes_any' }]);
    }
  });

  it('a tenant spelled with an escape is judged as the origin reads it', async () => {
    const response = await send(gateway, new Request('https://api.example/tenants/org_%67lobex/orders', { headers: bearer(tokens.org_globex!) }));
    expect(response.status).toBe(200);
    expect(world.lastOriginRequest().url).toBe('https://origin.example/tenants/org_globex/orders');
  });
});
