/**
 * A multi-tenant issuer (the entra preset with tenant "common": iss carries each token's tid, one shared
 * JWKS) behind one tenant-bound route, through the Worker with real KV. Four tenants: two listed inline,
 * one never listed, one listed in KV after the gateway is up. Own paths 200; other tenants' paths 403;
 * the unlisted tenant 401 tenant_not_allowed everywhere; the KV tenant accepted once its list is re-read
 * (TENANT_LIST_REFRESH_SECONDS, the clock moved), and refused again the same way after its removal.
 */
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TENANT_LIST_REFRESH_SECONDS } from '../../src/config/constants.ts';
import type { Env } from '../../src/env.ts';
import { Gateway } from '../../src/gateway.ts';
import { bearer, compileOrThrow, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const JWKS = 'https://login.microsoftonline.com/common/discovery/v2.0/keys';
const AUD = 'api://orders';
const LISTED_A = '11111111-1111-4111-8111-111111111111';
const LISTED_B = '22222222-2222-4222-8222-222222222222';
const UNLISTED = '33333333-3333-4333-8333-333333333333';
const IN_KV = '44444444-4444-4444-8444-444444444444';
const TENANTS = [LISTED_A, LISTED_B, UNLISTED, IN_KV];
const KV_KEY = 'entra-tenants';
/** The real local KV namespace of wrangler.toml's GATEWAY_TENANTS binding. */
const tenantsKv = () => (env as unknown as Env).GATEWAY_TENANTS!;

const policy = {
  issuers: { entra: { preset: 'entra', tenant: 'common', tenants: { inline: [LISTED_A, LISTED_B], kv: KV_KEY } } },
  routes: {
    tenant: {
      path: '/tenants/{tenant}/*',
      issuers: ['entra'],
      audiences: [AUD],
      origin: 'https://origin.example',
      claims: [{ claim: 'tid', equals_path_variable: 'tenant' }],
    },
  },
};

let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let clock: number;
let gateway: Gateway;
const tokens: Record<string, string> = {};

const entraToken = (tid: string, extra: object = {}) =>
  sign(key, { iss: `https://login.microsoftonline.com/${tid}/v2.0`, aud: AUD, tid, ver: '2.0', azp: 'client-app', sub: `user-of-${tid}`, iat: nowSeconds(), exp: nowSeconds() + 600, ...extra });
const call = (holder: string, target: string) => send(gateway, new Request(`https://api.example/tenants/${target}/orders`, { headers: bearer(tokens[holder]!) }));

beforeAll(async () => {
  key = await makeKey('RS256', 'entra-1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(key)).origin('origin.example').install();
  logs = new RecordCapture();
  for (const tid of TENANTS) tokens[tid] = await entraToken(tid);
});
beforeEach(async () => {
  await tenantsKv().delete(KV_KEY);
  clock = Date.now();
  gateway = new Gateway(compileOrThrow(JSON.stringify(policy)), { allowLoopbackHttp: false, now: () => clock });
});
afterAll(() => {
  world.restore();
  logs.restore();
});

describe('the entra preset with tenant "common"', () => {
  it('compiles to a template issuer bound to tid, with the shared key set', () => {
    const issuer = compileOrThrow(JSON.stringify(policy)).issuers.entra!;
    expect(issuer).toMatchObject({
      issuer: 'https://login.microsoftonline.com/{tenant}/v2.0',
      keySource: { kind: 'jwks', url: JWKS },
      tenancy: { claim: ['tid'], issTemplate: { prefix: 'https://login.microsoftonline.com/', suffix: '/v2.0' }, tenants: [LISTED_A, LISTED_B], kvKey: KV_KEY },
    });
  });
});

describe('cross-tenant matrix, four tenants of one issuer', () => {
  const cells = TENANTS.flatMap((holder) => TENANTS.map((target) => ({ holder, target })));
  it.each(cells)('$holder on $target', async ({ holder, target }) => {
    const response = await call(holder, target);
    const record = logs.last();
    expect(record.key_layer).not.toBeNull();
    const listed = holder === LISTED_A || holder === LISTED_B;
    if (listed && holder === target) {
      expect(response.status).toBe(200);
      expect(record).toMatchObject({ outcome: 'allowed', tenant: holder, path_variables: { tenant: target }, findings: [] });
      return;
    }
    const codes = record.findings.map((f) => f.code);
    expect(codes).toEqual([...(listed ? [] : ['tenant_not_allowed']), ...(holder === target ? [] : ['path_variable_mismatch'])]);
    // An unlisted tenant's token is not one this API trusts (401), whatever the path; a listed one on another tenant's path is forbidden (403).
    expect(response.status).toBe(listed ? 403 : 401);
    expect(record.tenant).toBe(holder);
  });
});

describe('tenants listed in KV', () => {
  it('a tenant added to KV after deploy is accepted once the list is re-read, without waiting on KV', async () => {
    expect((await call(IN_KV, IN_KV)).status).toBe(401);
    expect(logs.last().findings).toEqual([{ code: 'tenant_not_allowed', claim: 'tid', actual: IN_KV }]);
    await tenantsKv().put(KV_KEY, JSON.stringify({ tenants: [IN_KV] }));
    // Within the refresh interval the isolate's list is the one it read: still refused.
    clock += (TENANT_LIST_REFRESH_SECONDS - 1) * 1000;
    expect((await call(IN_KV, IN_KV)).status).toBe(401);
    // Past it: this request starts the re-read in the background and is judged by the list in memory...
    clock += 2000;
    expect((await call(IN_KV, IN_KV)).status).toBe(401);
    // ...and the next one sees the tenant.
    expect((await call(IN_KV, IN_KV)).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed', tenant: IN_KV });
    expect((await call(IN_KV, LISTED_A)).status).toBe(403);
    expect((await call(LISTED_A, LISTED_A)).status).toBe(200);
  });

  it('a tenant removed from KV is refused after the same delay', async () => {
    await tenantsKv().put(KV_KEY, JSON.stringify({ tenants: [IN_KV] }));
    expect((await call(IN_KV, IN_KV)).status).toBe(200);
    await tenantsKv().put(KV_KEY, JSON.stringify({ tenants: [] }));
    expect((await call(IN_KV, IN_KV)).status).toBe(200);
    clock += (TENANT_LIST_REFRESH_SECONDS + 1) * 1000;
    expect((await call(IN_KV, IN_KV)).status).toBe(200);
    expect((await call(IN_KV, IN_KV)).status).toBe(401);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['tenant_not_allowed']);
  });

  it('a broken KV document keeps the last good list', async () => {
    await tenantsKv().put(KV_KEY, JSON.stringify({ tenants: [IN_KV] }));
    expect((await call(IN_KV, IN_KV)).status).toBe(200);
    await tenantsKv().put(KV_KEY, '{"tenants": "all"}');
    clock += (TENANT_LIST_REFRESH_SECONDS + 1) * 1000;
    expect((await call(IN_KV, IN_KV)).status).toBe(200);
    expect((await call(IN_KV, IN_KV)).status).toBe(200);
  });
});

describe('iss and tid must name the same tenant', () => {
  it.each([
    ['iss of another tenant than tid', { iss: `https://login.microsoftonline.com/${LISTED_B}/v2.0` }, 401, ['issuer_mismatch']],
    ['iss with the template itself', { iss: 'https://login.microsoftonline.com/{tenant}/v2.0' }, 401, ['issuer_mismatch']],
    ['iss of "common"', { iss: 'https://login.microsoftonline.com/common/v2.0' }, 401, ['issuer_mismatch']],
    ['no tid', { tid: undefined }, 401, ['claim_missing']],
    ['a v1 token', { iss: `https://sts.windows.net/${LISTED_A}/` }, 401, ['issuer_mismatch']],
  ])('%s -> %i', async (_name, claims, status, codes) => {
    const token = await entraToken(LISTED_A, claims);
    const response = await send(gateway, new Request(`https://api.example/tenants/${LISTED_A}/orders`, { headers: bearer(token) }));
    expect(response.status).toBe(status);
    expect(logs.last().findings.map((f) => f.code)).toEqual(expect.arrayContaining(codes));
  });
});
