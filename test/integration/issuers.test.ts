/** Several issuers on one route, inline and fetched keys, and what a token must not cost before its key is known. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const JWKS = 'https://corp.example/.well-known/jwks.json';
let corpKey: TestKey;
let partnerKey: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;

beforeAll(async () => {
  corpKey = await makeKey('RS256', 'corp-1');
  partnerKey = await makeKey('ES256', 'partner-1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(corpKey)).origin('origin.example').install();
  logs = new RecordCapture();
  gateway = gatewayFor({
    issuers: {
      corp: { issuer: 'https://corp.example/', jwks_uri: JWKS },
      partner: { issuer: 'https://partner.example', keys: [partnerKey.publicJwk], algorithms: ['ES256'], app_claim: 'azp' },
      other: { issuer: 'https://other.example', jwks_uri: 'https://other.example/jwks' },
    },
    routes: {
      orders: { path: '/orders/*', issuers: ['corp', 'partner'], audiences: ['orders-api'], app: 'shop', origin: 'https://origin.example' },
    },
  });
});
afterAll(() => {
  world.restore();
  logs.restore();
});

const claims = (iss: string, extra: object = {}) => ({ iss, aud: 'orders-api', sub: 'u', iat: nowSeconds(), exp: nowSeconds() + 60, ...extra });
const get = (token: string) => send(gateway, new Request('https://gw.example/orders/1', { headers: bearer(token) }));

describe('a route that accepts two issuers', () => {
  it('accepts each issuer with its own key source and app claim', async () => {
    expect((await get(await sign(corpKey, claims('https://corp.example/', { app_id: 'shop' })))).status).toBe(200);
    expect(logs.last()).toMatchObject({ iss: 'https://corp.example/', key_layer: 'network' });
    expect((await get(await sign(partnerKey, claims('https://partner.example', { azp: 'shop' })))).status).toBe(200);
    expect(logs.last()).toMatchObject({ iss: 'https://partner.example', key_layer: 'inline', app: 'shop' });
  });

  it("refuses a partner token signed with corp's key (the iss chooses the keys)", async () => {
    const response = await get(await sign(corpKey, claims('https://partner.example', { azp: 'shop' }), { header: { alg: 'RS256' } }));
    expect(response.status).toBe(401);
    expect(logs.last().findings).toEqual([{ code: 'alg_not_allowed', actual: 'RS256', expected: ['ES256'] }]);
  });

  it('refuses an issuer configured elsewhere but not on this route, without fetching anything', async () => {
    const before = world.fetchCount();
    const response = await get(await sign(corpKey, claims('https://other.example', { app_id: 'shop' })));
    expect(response.status).toBe(401);
    expect(logs.last().findings[0]).toMatchObject({ code: 'issuer_mismatch', actual: 'https://other.example' });
    expect(world.fetchCount()).toBe(before);
  });

  it('refuses an algorithm outside the issuer policy without fetching anything', async () => {
    const hs = await crypto.subtle.importKey('raw', new TextEncoder().encode('k'.repeat(32)), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const { SignJWT } = await import('jose');
    const token = await new SignJWT(claims('https://corp.example/', { app_id: 'shop' })).setProtectedHeader({ alg: 'HS256', kid: 'corp-1' }).sign(hs);
    const before = world.fetchCount();
    expect((await get(token)).status).toBe(401);
    expect(logs.last().findings).toEqual([{ code: 'alg_not_allowed', actual: 'HS256', expected: ['RS256'] }]);
    expect(world.fetchCount()).toBe(before);
  });

  it('refuses a token whose signature does not match its payload', async () => {
    const good = await sign(corpKey, claims('https://corp.example/', { app_id: 'shop' }));
    const forged = await sign(corpKey, claims('https://corp.example/', { app_id: 'shop', sub: 'admin' }));
    const [header, , signature] = good.split('.');
    const response = await get(`${header}.${forged.split('.')[1]}.${signature}`);
    expect(response.status).toBe(401);
    expect(logs.last().findings).toEqual([{ code: 'signature_invalid' }]);
  });

  it('answers 503 with Retry-After when an issuer has never served its keys', async () => {
    const lonely = gatewayFor({
      issuers: { down: { issuer: 'https://down.example', jwks_uri: 'https://down.example/jwks' } },
      routes: { r: { path: '/*', issuers: ['down'], audiences: ['a'], origin: 'https://origin.example' } },
    });
    const key = await makeKey('RS256', 'd');
    const response = await send(lonely, new Request('https://gw.example/x', { headers: bearer(await sign(key, { ...claims('https://down.example'), aud: 'a' })) }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(logs.last().findings[0]).toMatchObject({ code: 'keys_unavailable' });
  });
});
