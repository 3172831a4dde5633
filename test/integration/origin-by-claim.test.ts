/**
 * A route's origin picked by a verified claim through a fixed map (origin_by_claim): each region's token
 * reaches its own back-end, and the signed assertion binds the host it was forwarded to; an unmapped or
 * missing value is refused (403 origin_unmapped) and reaches no origin; compile-time refusals, including
 * the forwarded-space check over every origin such a route can pick.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicies } from '../../src/config/compile.ts';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const ISS = 'https://id.example/';
const JWKS = 'https://id.example/jwks';
const ORIGINS = { eu: 'https://eu.origin.example', us: 'https://us.origin.example' };

let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;

const route = (extra: object) => ({ issuers: ['idp'], audiences: ['api'], ...extra });
const token = (extra: object) => sign(key, { iss: ISS, aud: 'api', sub: 'u', iat: nowSeconds(), exp: nowSeconds() + 300, ...extra });

beforeAll(async () => {
  key = await makeKey('RS256', 'k1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(key)).origin('eu.origin.example').origin('us.origin.example').install();
  logs = new RecordCapture();
  gateway = gatewayFor({
    settings: { assertion: { issuer: 'https://gw.example' } },
    issuers: { idp: { issuer: ISS, jwks_uri: JWKS } },
    routes: { data: route({ path: '/data/*', origin_by_claim: { claim: 'region', origins: ORIGINS } }) },
  });
});
afterAll(() => {
  world.restore();
  logs.restore();
});

describe('origin chosen by a verified claim', () => {
  it.each(Object.entries(ORIGINS))('a %s token reaches %s, bound in the assertion', async (region, origin) => {
    const response = await send(gateway, new Request('https://gw.example/data/x?q=1', { headers: bearer(await token({ region })) }));
    expect(response.status).toBe(200);
    const seen = world.lastOriginRequest();
    expect(seen.url).toBe(`${origin}/data/x?q=1`);
    const assertion = decodeJwt((seen.headers as Record<string, string>)['x-verified-assertion']!);
    // The query is bound too, as a digest (issue 17): a value only the query q=1 gives.
    expect(assertion.req).toEqual({ method: 'GET', host: new URL(origin).host, path: '/data/x', query: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(logs.last()).toMatchObject({ outcome: 'allowed', origin_choice: region });
  });

  it.each([
    ['an unmapped value', { region: 'apac' }, 'apac'],
    ['no such claim', {}, null],
    ['a prototype member name', { region: 'constructor' }, 'constructor'],
    ['a non-string', { region: ['eu'] }, '["eu"]'],
  ])('%s: 403 origin_unmapped, no origin reached', async (_name, claims, actual) => {
    const before = world.originRequests.length;
    const response = await send(gateway, new Request('https://gw.example/data/x', { headers: bearer(await token(claims)) }));
    expect(response.status).toBe(403);
    expect(world.originRequests.length).toBe(before);
    expect(logs.last().findings).toEqual([{ code: 'origin_unmapped', claim: 'region', actual, expected: ['eu', 'us'] }]);
  });

  it('a refused token is answered before any origin is chosen', async () => {
    const response = await send(gateway, new Request('https://gw.example/data/x', { headers: bearer(await token({ region: 'eu', aud: 'other' })) }));
    expect(response.status).toBe(401);
    expect(logs.last().findings.map((f) => f.code)).toEqual(['audience_mismatch']);
  });
});

describe('compiling origin_by_claim', () => {
  const errorsOf = (routes: object) => {
    const result = compilePolicies([{ file: 't.jsonc', text: JSON.stringify({ issuers: { idp: { issuer: ISS, jwks_uri: JWKS } }, routes }) }]);
    return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
  };
  it.each<[string, object, string]>([
    ['with origin too', { r: route({ path: '/r/*', origin: 'https://o.example', origin_by_claim: { claim: 'region', origins: ORIGINS } }) }, '/routes/r/origin: give "origin" or "origin_by_claim", not both'],
    ['on an optional route', { r: route({ path: '/r/*', mode: 'optional', origin_by_claim: { claim: 'region', origins: ORIGINS } }) }, '/routes/r/origin_by_claim: a route in mode "optional"'],
    ['a target with a query', { r: route({ path: '/r/*', origin_by_claim: { claim: 'region', origins: { eu: 'https://eu.example/?x=1' } } }) }, '/routes/r/origin_by_claim/origins/eu: origin may not carry a query'],
    // A weaker route stripped to "/" at the US back-end would hand it /data/... paths this route protects there.
    ['a weaker route delivering into one of its origins', {
      data: route({ path: '/data/*', origin_by_claim: { claim: 'region', origins: ORIGINS } }),
      assets: { path: '/assets/*', mode: 'public', origin: { url: ORIGINS.us, strip_path_prefix: '/assets' } },
    }, '/routes/assets: delivers paths that route "data"'],
  ])('%s is refused', (_name, routes, message) => {
    const errors = errorsOf(routes);
    expect(errors.some((e) => e.startsWith(message)), errors.join('\n')).toBe(true);
  });
});
