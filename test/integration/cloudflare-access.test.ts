/**
 * Cloudflare Access, shaped as Access hands requests over: a real RS256 token in Cf-Access-Jwt-Assertion
 * (and, from browsers, in the CF_Authorization cookie), keys served at the team's /cdn-cgi/access/certs the
 * way Access serves them (`keys` beside `public_cert`/`public_certs`), for a user and for a service token
 * (sub "", common_name the service token's client id).
 */
import { decodeJwt, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { gatewaySigningKey } from '../helpers/gateway-keys.ts';
import { makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';

const TEAM = 'https://acme.cloudflareaccess.com';
const CERTS = `${TEAM}/cdn-cgi/access/certs`;
const AUD = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';
let accessKey: TestKey;
let retiredKey: TestKey;
let signingKey: string;

beforeAll(async () => {
  accessKey = await makeKey('RS256', 'b8a7d2b0c1e4f3a6d9c2b5e8f1a4d7c0b3e6f9a2d5c8b1e4f7a0d3c6b9e2f5a8');
  retiredKey = await makeKey('RS256', '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0');
  signingKey = await gatewaySigningKey('EdDSA', 'gw-1');
});
// As Access publishes them: the current and the previous key, and the same keys as PEM certificates.
const scene = useOutsideWorld(() =>
  new OutsideWorld()
    .serveJwks(CERTS, {
      keys: [accessKey.publicJwk, retiredKey.publicJwk],
      public_cert: { kid: accessKey.kid, cert: '-----BEGIN CERTIFICATE-----\nMIIDtest\n-----END CERTIFICATE-----\n' },
      public_certs: [accessKey.kid, retiredKey.kid].map((kid) => ({ kid, cert: '-----BEGIN CERTIFICATE-----\nMIIDtest\n-----END CERTIFICATE-----\n' })),
    })
    .origin('origin.example'),
);

const policy = () => ({
  settings: { assertion: { issuer: 'https://gw.example' } },
  issuers: { access: { preset: 'cloudflare-access', team: 'acme' } },
  routes: { app: { path: '/*', issuers: ['access'], audiences: [AUD], origin: 'https://origin.example' } },
});

function userClaims(): JWTPayload {
  const now = nowSeconds();
  return { aud: [AUD], email: 'alice@acme.example', exp: now + 86000, iat: now - 5, nbf: now - 5, iss: TEAM, type: 'app', identity_nonce: '6ei69kawdKzMIAPF', sub: '7335d417-61da-459d-899c-0a01c76a2f94', country: 'NL' };
}
function serviceClaims(): JWTPayload {
  const now = nowSeconds();
  return { aud: [AUD], exp: now + 86000, iat: now - 5, nbf: now - 5, iss: TEAM, type: 'app', identity_nonce: 'a9Zx1', sub: '', common_name: '8f2e1c0a7b6d.access' };
}

const call = async (headers: Record<string, string>, method = 'GET') => send(gatewayFor(policy()), new Request('https://app.acme.example/reports', { method, headers }), { GATEWAY_SIGNING_KEY: signingKey });

describe('Cloudflare Access', () => {
  it('a user: the token in Cf-Access-Jwt-Assertion verifies against the certs endpoint, and the origin sees the user', async () => {
    const token = await sign(accessKey, userClaims());
    const response = await call({ 'cf-access-jwt-assertion': token });
    expect(response.status).toBe(200);
    const received = scene.world.lastOriginRequest().headers;
    expect(received['x-verified-sub']).toBe('7335d417-61da-459d-899c-0a01c76a2f94');
    expect(received['x-verified-sub-kind']).toBeUndefined();
    expect(received['cf-access-jwt-assertion']).toBeUndefined();
    expect(decodeJwt(received['x-verified-assertion']!)).toMatchObject({ sub: '7335d417-61da-459d-899c-0a01c76a2f94' });
    expect(decodeJwt(received['x-verified-assertion']!).sub_kind).toBeUndefined();
    expect(scene.logs.last()).toMatchObject({ outcome: 'allowed', token_source: 'header:cf-access-jwt-assertion', sub: '7335d417-61da-459d-899c-0a01c76a2f94' });
    expect(scene.world.fetchCount(CERTS)).toBeGreaterThan(0);
  });

  it('a token signed by the previous key, still published, verifies too', async () => {
    const response = await call({ 'cf-access-jwt-assertion': await sign(retiredKey, userClaims()) });
    expect(response.status).toBe(200);
  });

  it('a service token: sub "" is accepted with common_name as the subject, marked as a service in the headers and the assertion', async () => {
    const token = await sign(accessKey, serviceClaims());
    const response = await call({ 'cf-access-jwt-assertion': token });
    expect(response.status).toBe(200);
    const received = scene.world.lastOriginRequest().headers;
    expect(received['x-verified-sub']).toBe('8f2e1c0a7b6d.access');
    expect(received['x-verified-sub-kind']).toBe('service');
    expect(decodeJwt(received['x-verified-assertion']!)).toMatchObject({ sub: '8f2e1c0a7b6d.access', sub_kind: 'service' });
    expect(scene.logs.last()).toMatchObject({ outcome: 'allowed', sub: '8f2e1c0a7b6d.access' });
  });

  it('a client cannot pass itself off as a service: a forged x-verified-sub-kind is stripped from a user request', async () => {
    const response = await call({ 'cf-access-jwt-assertion': await sign(accessKey, userClaims()), 'x-verified-sub-kind': 'service' });
    expect(response.status).toBe(200);
    expect(scene.world.lastOriginRequest().headers['x-verified-sub-kind']).toBeUndefined();
  });

  it('a token with sub "" and no common_name is still refused (claim_invalid)', async () => {
    const { common_name: _dropped, ...claims } = serviceClaims();
    const response = await call({ 'cf-access-jwt-assertion': await sign(accessKey, claims) });
    expect(response.status).toBe(401);
    expect(scene.logs.last().finding).toBe('claim_invalid');
  });

  it('a browser: the CF_Authorization cookie alone, removed before the origin with the other cookies kept', async () => {
    const token = await sign(accessKey, userClaims());
    const response = await call({ cookie: `theme=dark; CF_Authorization=${token}; _ga=GA1.2.3` });
    expect(response.status).toBe(200);
    expect(scene.world.lastOriginRequest().headers.cookie).toBe('theme=dark; _ga=GA1.2.3');
    expect(scene.logs.last().token_source).toBe('cookie:CF_Authorization');
  });

  it('a browser behind Access: the same token in the header and the cookie is one credential; a POST needs no CSRF check, the header came from Access', async () => {
    const token = await sign(accessKey, userClaims());
    const response = await call({ 'cf-access-jwt-assertion': token, cookie: `CF_Authorization=${token}` }, 'POST');
    expect(response.status).toBe(200);
    expect(scene.world.lastOriginRequest().headers.cookie).toBeUndefined();
  });

  it('a cookie-only POST from another site is refused (403 csrf_check_failed)', async () => {
    const token = await sign(accessKey, userClaims());
    const response = await call({ cookie: `CF_Authorization=${token}`, 'sec-fetch-site': 'cross-site' }, 'POST');
    expect(response.status).toBe(403);
    expect(scene.logs.last().finding).toBe('csrf_check_failed');
  });

  it('a different token in the cookie than in the header is refused (400)', async () => {
    const response = await call({ 'cf-access-jwt-assertion': await sign(accessKey, userClaims()), cookie: `CF_Authorization=${await sign(accessKey, serviceClaims())}` });
    expect(response.status).toBe(400);
    expect(scene.logs.last().finding).toBe('request_invalid');
  });

  it('a bearer is not where Access puts its token: 401 token_missing', async () => {
    const response = await call(bearer(await sign(accessKey, userClaims())));
    expect(response.status).toBe(401);
    expect(scene.logs.last().finding).toBe('token_missing');
  });

  it('the AUD tag of another application is refused', async () => {
    const response = await call({ 'cf-access-jwt-assertion': await sign(accessKey, { ...userClaims(), aud: ['0000c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2'] }) });
    expect(response.status).toBe(401);
    expect(scene.logs.last().finding).toBe('audience_mismatch');
  });
});
