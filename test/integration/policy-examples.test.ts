/**
 * Every file in policies/ and policies/examples/ compiles, and each is exercised by a request that shows
 * its feature. Examples are documentation: they are never part of the deployed gateway.
 */
import compiledDeployed from '../../.generated/policies.json' with { type: 'json' };
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicies } from '../../src/config/compile.ts';
import { bearer, gatewayForText, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { deployedPolicyFiles, examplePolicyFiles } from '../helpers/policy-files.ts';
import { RecordCapture } from '../helpers/records.ts';

let world: OutsideWorld;
let logs: RecordCapture;
let key: TestKey;

const CORP = 'https://id.corp.example/';
const PLATFORM = 'https://id.platform.example/';
const HMAC_SECRET = 'an example shared secret of 32+ bytes!';

beforeAll(async () => {
  key = await makeKey('RS256', 'example-1');
  world = new OutsideWorld()
    .serveJwks('https://id.corp.example/.well-known/jwks.json', jwksOf(key))
    .serveJwks('https://id.platform.example/.well-known/jwks.json', jwksOf(key))
    .serveJwks('http://127.0.0.1:8788/.well-known/jwks.json', jwksOf(key))
    .serveJwks('https://login.microsoftonline.com/common/discovery/v2.0/keys', jwksOf(key))
    .serveJwks('https://acme.eu.auth0.com/.well-known/jwks.json', jwksOf(key))
    .origin('origin.example')
    .origin('eu.origin.example')
    .origin('127.0.0.1:8789')
    .install();
  logs = new RecordCapture();
});
afterAll(() => {
  world.restore();
  logs.restore();
});

const claims = (iss: string, aud: string, extra: object = {}) => ({ iss, aud, sub: 'user-1', iat: nowSeconds(), exp: nowSeconds() + 300, ...extra });
const get = (gateway: ReturnType<typeof gatewayForText>, url: string, headers: HeadersInit = {}, bindings = {}) =>
  send(gateway, new Request(url, { headers }), bindings);

/** One exercise per file: a request that shows what the file is for. A file without one fails the test below. */
const EXERCISES: Record<string, (gateway: ReturnType<typeof gatewayForText>) => Promise<void>> = {
  'policies/demo.jsonc': async (gateway) => {
    const token = await sign(key, claims('http://127.0.0.1:8788', 'https://api.example.test', { app_id: 'billing' }), { header: { typ: 'at+jwt' } });
    expect((await get(gateway, 'http://gw.test/billing/x', bearer(token))).status).toBe(200);
    expect((await get(gateway, 'http://gw.test/reports/x', bearer(token))).status).toBe(401);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['app_mismatch']);
  },
  'policies/examples/claims.jsonc': async (gateway) => {
    const good = { 'https://corp.example/tenant': 'corp', realm_access: { roles: ['user', 'admin'] }, 'acr.level': 'aal2', email_verified: true, email: 'a@corp.example' };
    expect((await get(gateway, 'https://gw.example/admin/x', bearer(await sign(key, claims(CORP, 'https://api.corp.example', good))))).status).toBe(200);
    const bad = { ...good, 'https://corp.example/tenant': 'other', realm_access: { roles: ['user'] }, acr: { level: 'aal2' }, 'acr.level': undefined, email_verified: 'true' };
    expect((await get(gateway, 'https://gw.example/admin/x', bearer(await sign(key, claims(CORP, 'https://api.corp.example', bad))))).status).toBe(401);
    expect(logs.last().findings.map((f) => `${f.code}:${f.claim}`)).toEqual([
      'claim_mismatch:https://corp.example/tenant',
      'claim_mismatch:realm_access.roles',
      'claim_missing:acr.level',
      'claim_mismatch:email_verified',
    ]);
  },
  'policies/examples/modes.jsonc': async (gateway) => {
    const preflight = { origin: 'https://app.corp.example', 'access-control-request-method': 'POST' };
    const response = await send(gateway, new Request('https://gw.example/api/orders', { method: 'OPTIONS', headers: preflight }));
    expect(response.status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'preflight', findings: [] });
    expect((await get(gateway, 'https://gw.example/beta/x')).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'report_only', findings: [{ code: 'token_missing' }] });
    expect((await get(gateway, 'https://gw.example/catalog/x')).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'anonymous' });
    expect((await get(gateway, 'https://gw.example/catalog/x', bearer(await sign(key, claims(CORP, 'wrong-api'))))).status).toBe(401);
    expect((await get(gateway, 'https://gw.example/health')).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'public' });
  },
  'policies/examples/hmac.jsonc': async (gateway) => {
    const secret = await crypto.subtle.importKey('raw', new TextEncoder().encode(HMAC_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const { SignJWT } = await import('jose');
    const token = await new SignJWT(claims('https://legacy.corp.example', 'legacy-api')).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    expect((await get(gateway, 'https://gw.example/legacy/x', bearer(token), { LEGACY_HMAC_SECRET: HMAC_SECRET })).status).toBe(200);
    expect((await get(gateway, 'https://gw.example/legacy/x', bearer(token))).status).toBe(503);
  },
  'policies/examples/multi-app.jsonc': async (gateway) => {
    const billing = await sign(key, claims(PLATFORM, 'https://api.platform.example', { app_id: 'billing' }));
    expect((await get(gateway, 'https://gw.example/billing/1', bearer(billing))).status).toBe(200);
    expect((await get(gateway, 'https://gw.example/reports/1', bearer(billing))).status).toBe(401);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['app_mismatch']);
  },
  'policies/examples/tenant-paths.jsonc': async (gateway) => {
    const acme = await sign(key, claims(PLATFORM, 'https://api.platform.example', { org_id: 'acme', roles: ['member'], scope: 'tenants:list' }));
    expect((await get(gateway, 'https://gw.example/tenants/acme/orders', bearer(acme))).status).toBe(200);
    expect(logs.last()).toMatchObject({ route: 'tenant-api', path_variables: { tenant: 'acme' } });
    expect((await get(gateway, 'https://gw.example/tenants/globex/orders', bearer(acme))).status).toBe(403);
    expect(logs.last().findings).toEqual([{ code: 'path_variable_mismatch', claim: 'org_id', actual: 'acme', expected: 'globex', detail: '{tenant}' }]);
    expect((await get(gateway, 'https://gw.example/tenants/acme/admin/users', bearer(acme))).status).toBe(403);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['claim_insufficient']);
    expect((await get(gateway, 'https://gw.example/tenants', bearer(acme))).status).toBe(200);
  },
  'policies/examples/multi-tenant.jsonc': async (gateway) => {
    const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const other = 'c1d2e3f4-0000-4000-8000-00000000000b';
    const entra = (t: string) => sign(key, claims(`https://login.microsoftonline.com/${t}/v2.0`, '6e74172b-be56-4843-9ff4-e66a39bb12e3', { tid: t, ver: '2.0', azp: 'client' }));
    expect((await get(gateway, `https://gw.example/directories/${tid}/x`, bearer(await entra(tid)))).status).toBe(200);
    expect(logs.last()).toMatchObject({ tenant: tid, path_variables: { tenant: tid } });
    expect((await get(gateway, `https://gw.example/directories/${other}/x`, bearer(await entra(other)))).status).toBe(401);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['tenant_not_allowed']);
    const org = (o: string) => sign(key, claims('https://acme.eu.auth0.com/', 'https://orders.acme.example', { org_id: o, azp: 'client' }));
    expect((await get(gateway, 'https://gw.example/orgs/org_9ybsU1dN2dKfDkBi/x', bearer(await org('org_9ybsU1dN2dKfDkBi')))).status).toBe(200);
    expect((await get(gateway, 'https://gw.example/orgs/org_other/x', bearer(await org('org_9ybsU1dN2dKfDkBi')))).status).toBe(403);
  },
  'policies/examples/cors.jsonc': async (gateway) => {
    const refused = await get(gateway, 'https://gw.example/api/orders', { origin: 'https://app.example' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(refused.headers.get('access-control-expose-headers')).toBe('www-authenticate, retry-after, x-request-id');
    expect((await get(gateway, 'https://gw.example/api/orders', { origin: 'https://evil.example' })).headers.has('access-control-allow-origin')).toBe(false);
    const preflight = await send(gateway, new Request('https://gw.example/api/orders', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } }));
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(logs.last()).toMatchObject({ outcome: 'preflight' });
  },
  'policies/examples/rate-limit.jsonc': async (gateway) => {
    // The burst itself is test/integration/rate-limit.test.ts; here: a verified identity is counted and forwarded.
    const token = await sign(key, claims(CORP, 'https://api.corp.example', { sub: `example-${crypto.randomUUID()}`, tid: 't1' }));
    expect((await get(gateway, 'https://gw.example/orders/1', bearer(token))).status).toBe(200);
    expect((await get(gateway, 'https://gw.example/exports/1', bearer(token))).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed', findings: [] });
    expect((await get(gateway, 'https://gw.example/orders/1')).status).toBe(401);
  },
  'policies/examples/origin-by-claim.jsonc': async (gateway) => {
    const eu = await sign(key, claims(PLATFORM, 'https://api.platform.example', { region: 'eu' }));
    expect((await get(gateway, 'https://gw.example/data/1', bearer(eu))).status).toBe(200);
    expect(world.lastOriginRequest().url).toBe('https://eu.origin.example/data/1');
    expect(logs.last()).toMatchObject({ origin_choice: 'eu' });
    const apac = await sign(key, claims(PLATFORM, 'https://api.platform.example', { region: 'apac' }));
    expect((await get(gateway, 'https://gw.example/data/1', bearer(apac))).status).toBe(403);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['origin_unmapped']);
  },
  'policies/examples/presets.jsonc': async (gateway) => {
    // Each preset's tokens are exercised in test/integration/presets.test.ts; here: one route per preset exists.
    const token = await sign(key, claims(PLATFORM, 'https://api.platform.example', { app_id: 'billing' }));
    expect((await get(gateway, 'https://gw.example/platform/x', bearer(token))).status).toBe(200);
    for (const path of ['auth0', 'okta', 'entra', 'google', 'cognito', 'firebase', 'keycloak', 'access', 'as']) {
      expect((await get(gateway, `https://gw.example/${path}/x`)).status).toBe(401);
      expect(logs.last()).toMatchObject({ route: expect.stringMatching(/./), findings: [{ code: 'token_missing' }] });
    }
  },
};

describe('policy files', () => {
  const all = { ...deployedPolicyFiles, ...examplePolicyFiles };

  it('finds the deployed policies and the examples', () => {
    expect(Object.keys(deployedPolicyFiles)).toContain('policies/demo.jsonc');
    expect(Object.keys(examplePolicyFiles).length).toBeGreaterThanOrEqual(5);
  });

  it('has an exercise for every file', () => {
    expect(Object.keys(all).sort()).toEqual(Object.keys(EXERCISES).sort());
  });

  it.each(Object.keys(all))('%s compiles and does what it shows', async (file) => {
    // Loopback http only for the demo issuer on 127.0.0.1, as npm start allows; every example uses https.
    await EXERCISES[file]!(gatewayForText(all[file]!, file, { allowLoopbackHttp: true }));
  });

  it('the deployed gateway is compiled from policies/*.jsonc only, never from policies/examples/', () => {
    const result = compilePolicies(Object.entries(deployedPolicyFiles).map(([file, text]) => ({ file, text })));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(compiledDeployed.routes.map((r) => r.id)).toEqual(result.config.routes.map((r) => r.id));
    expect(Object.keys(compiledDeployed.issuers)).toEqual(Object.keys(result.config.issuers));
  });
});
