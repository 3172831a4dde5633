/**
 * The policies of docs/guides/protect-an-api.md, each through a gateway built from the guide's own text:
 * the token the section tells you how to get is let through, and the confusions its "Refused" list names
 * are refused with the finding code it names. Token shapes follow each provider's documentation (as in
 * test/integration/presets.test.ts); values are the ones the guide's policies use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, type JWTPayload } from 'jose';
import type { Gateway } from '../../src/gateway.ts';
import { bearer, compileOrThrow, gatewayForText, send } from '../helpers/gateway.ts';
import { guidePolicies, type GuidePolicy } from '../helpers/guide-policies.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const T = () => nowSeconds();
const times = () => ({ iat: T() - 5, exp: T() + 600 });
const without = (claims: JWTPayload, ...names: string[]) => Object.fromEntries(Object.entries(claims).filter(([k]) => !names.includes(k)));

interface Case {
  name: string;
  claims?: () => JWTPayload;
  /** A raw bearer value instead of a signed token. */
  raw?: string;
  header?: Record<string, unknown>;
  method?: string;
  path?: string;
  hmac?: true;
  /** 'ok', or the finding code the guide names (others may come with it). */
  expect: 'ok' | string;
}

const AUTH0_CLIENT = 'Xk3v9QpT7mR2sLw8ZbN4cYd6EfGh1JaK';
const auth0 = (): JWTPayload => ({ iss: 'https://acme.eu.auth0.com/', sub: `${AUTH0_CLIENT}@clients`, aud: 'https://orders.acme.example', azp: AUTH0_CLIENT, scope: 'read:orders', gty: 'client-credentials', ...times() });
const okta = (): JWTPayload => ({ ver: 1, jti: 'AT.x1', iss: 'https://acme.okta.com/oauth2/aus1a2b3cOrders', aud: 'api://orders', cid: '0oa1b2c3d4OrdersCli', scp: ['orders.read'], sub: '0oa1b2c3d4OrdersCli', ...times() });
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_API = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const ENTRA_CLIENT = '2a1b7c3d-0000-4000-8000-000000000001';
const entraUser = (): JWTPayload => ({ aud: ENTRA_API, iss: `https://login.microsoftonline.com/${TENANT}/v2.0`, azp: ENTRA_CLIENT, scp: 'Orders.Read', sub: 'hGz1sC4fX8oK2mQ5', tid: TENANT, ver: '2.0', oid: '9f3b1c2d', ...times() });
const entraApp = (): JWTPayload => ({ ...without(entraUser(), 'scp'), roles: ['Orders.Write.All'], sub: 'app-oid-1' });
const B2C_TENANT_ID = '775527ff-9a37-4307-8b3d-cc311f58d925';
const B2C_API = '90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6';
const B2C_CLIENT = '975251ed-e4f5-4efd-abcb-5f1a8f566ab7';
const b2c = (): JWTPayload => ({ aud: B2C_API, iss: `https://acme.b2clogin.com/${B2C_TENANT_ID}/v2.0/`, ver: '1.0', sub: '884408e1-2918-4c20-b12d-3aa027d7563b', tfp: 'B2C_1_signupsignin1', scp: 'Orders.Read', azp: B2C_CLIENT, ...times() });
const ciam = (): JWTPayload => ({ aud: B2C_API, iss: `https://${B2C_TENANT_ID}.ciamlogin.com/${B2C_TENANT_ID}/v2.0`, azp: B2C_CLIENT, scp: 'Orders.Read', sub: 'c1', tid: B2C_TENANT_ID, ver: '2.0', ...times() });
const GOOGLE_SA = 'invoker@acme-prod.iam.gserviceaccount.com';
const google = (): JWTPayload => ({ iss: 'https://accounts.google.com', aud: 'https://orders.acme.example', azp: '110169484474386276334', sub: '110169484474386276334', email: GOOGLE_SA, email_verified: true, ...times() });
const COGNITO_CLIENT = '3n4b5urk1ft4fl3mg5e62d9ado';
const cognito = (): JWTPayload => ({ sub: COGNITO_CLIENT, token_use: 'access', scope: 'orders/read', auth_time: T() - 5, iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz', version: 2, jti: 'c-1', client_id: COGNITO_CLIENT, ...times() });
const firebase = (): JWTPayload => ({ iss: 'https://securetoken.google.com/acme-prod', aud: 'acme-prod', auth_time: T() - 60, user_id: 'kX9a8b7c', sub: 'kX9a8b7c', email: 'alice@acme.example', email_verified: true, firebase: { sign_in_provider: 'password' }, ...times() });
const keycloak = (): JWTPayload => ({ iss: 'https://sso.acme.example/realms/acme', aud: ['orders-api', 'account'], sub: 'f1e2d3c4', typ: 'Bearer', azp: 'orders-frontend', realm_access: { roles: ['orders-reader'] }, scope: 'profile email', ...times() });
const ACCESS_AUD = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';
const access = (): JWTPayload => ({ aud: [ACCESS_AUD], email: 'ana@acme.example', iss: 'https://acme.cloudflareaccess.com', type: 'app', identity_nonce: 'n', sub: '7335d417-61da-459d-899c-0a01c76a2f94', country: 'DE', ...times() });
const as = (): JWTPayload => ({ iss: 'https://as.acme.example', aud: 'https://orders.acme.example', sub: '5ba552d67', client_id: 's6BhdRkqt3', jti: 'dbe39bf3', scope: 'orders:read', ...times() });
const platform = (): JWTPayload => ({ iss: 'https://id.platform.example/', aud: 'https://api.platform.example', sub: 'u-1', app_id: 'billing', ...times() });

const CASES: Record<string, Case[]> = {
  auth0: [
    { name: 'a client-credentials token for the API', claims: auth0, expect: 'ok' },
    { name: 'an ID token', claims: () => ({ ...without(auth0(), 'scope', 'gty'), aud: AUTH0_CLIENT, sub: 'auth0|1' }), expect: 'audience_mismatch' },
    { name: 'a token for another API', claims: () => ({ ...auth0(), aud: 'https://billing.acme.example' }), expect: 'audience_mismatch' },
    { name: 'another application', claims: () => ({ ...auth0(), azp: 'other-client' }), expect: 'app_mismatch' },
    { name: 'iss without the slash', claims: () => ({ ...auth0(), iss: 'https://acme.eu.auth0.com' }), expect: 'issuer_mismatch' },
    { name: 'no read:orders', claims: () => ({ ...auth0(), scope: 'write:orders' }), expect: 'scope_insufficient' },
  ],
  okta: [
    { name: 'a client-credentials token', claims: okta, expect: 'ok' },
    { name: 'an ID token (audience)', claims: () => ({ ...without(okta(), 'cid', 'scp'), aud: '0oa1b2c3d4OrdersCli' }), expect: 'audience_mismatch' },
    { name: 'an ID token (no cid)', claims: () => ({ ...without(okta(), 'cid', 'scp'), aud: '0oa1b2c3d4OrdersCli' }), expect: 'claim_missing' },
    { name: 'the org authorization server', claims: () => ({ ...okta(), iss: 'https://acme.okta.com' }), expect: 'issuer_mismatch' },
    { name: 'another client', claims: () => ({ ...okta(), cid: '0oaOther' }), expect: 'app_mismatch' },
    { name: 'no scope', claims: () => ({ ...okta(), scp: ['openid'] }), expect: 'scope_insufficient' },
  ],
  entra: [
    { name: 'a user token with Orders.Read (GET)', claims: entraUser, expect: 'ok' },
    { name: 'an app-only token with the role (POST)', claims: entraApp, method: 'POST', expect: 'ok' },
    { name: 'a v1 token', claims: () => ({ ...without(entraUser(), 'azp'), iss: `https://sts.windows.net/${TENANT}/`, ver: '1.0', appid: ENTRA_CLIENT }), expect: 'issuer_mismatch' },
    { name: 'an ID token (audience)', claims: () => ({ ...without(entraUser(), 'azp', 'scp'), aud: ENTRA_CLIENT }), expect: 'audience_mismatch' },
    { name: 'an ID token (no azp)', claims: () => ({ ...without(entraUser(), 'azp', 'scp'), aud: ENTRA_CLIENT }), expect: 'claim_missing' },
    { name: "another tenant's token", claims: () => ({ ...entraUser(), iss: 'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0' }), expect: 'issuer_mismatch' },
    { name: 'a token for another API', claims: () => ({ ...entraUser(), aud: '00000000-aaaa-4bbb-8ccc-000000000000' }), expect: 'audience_mismatch' },
    { name: 'an app-only token on the GET route', claims: entraApp, expect: 'scope_insufficient' },
    { name: 'a client without the role', claims: () => without(entraApp(), 'roles'), method: 'POST', expect: 'claim_missing' },
  ],
  'azure-ad-b2c': [
    { name: 'an access token of the user flow', claims: b2c, expect: 'ok' },
    { name: 'an ID token', claims: () => ({ ...without(b2c(), 'azp', 'scp'), aud: B2C_CLIENT, nonce: 'n' }), expect: 'audience_mismatch' },
    { name: 'iss without the slash', claims: () => ({ ...b2c(), iss: `https://acme.b2clogin.com/${B2C_TENANT_ID}/v2.0` }), expect: 'issuer_mismatch' },
    { name: 'the tfp iss form', claims: () => ({ ...b2c(), iss: `https://acme.b2clogin.com/tfp/${B2C_TENANT_ID}/b2c_1_signupsignin1/v2.0/` }), expect: 'issuer_mismatch' },
    { name: 'another API', claims: () => ({ ...b2c(), aud: '00000000-aaaa-4bbb-8ccc-000000000000' }), expect: 'audience_mismatch' },
    { name: 'no Orders.Read', claims: () => ({ ...b2c(), scp: 'Orders.Write' }), expect: 'scope_insufficient' },
  ],
  'entra-external-id': [
    { name: 'an access token of the tenant', claims: ciam, expect: 'ok' },
    { name: 'the subdomain iss form', claims: () => ({ ...ciam(), iss: `https://acme.ciamlogin.com/${B2C_TENANT_ID}/v2.0` }), expect: 'ok' },
    { name: 'a workforce-tenant token', claims: () => ({ ...ciam(), iss: `https://login.microsoftonline.com/${B2C_TENANT_ID}/v2.0` }), expect: 'issuer_mismatch' },
    { name: 'an ID token', claims: () => ({ ...without(ciam(), 'azp', 'scp'), aud: B2C_CLIENT }), expect: 'audience_mismatch' },
    { name: 'a v1 token', claims: () => ({ ...ciam(), ver: '1.0' }), expect: 'claim_mismatch' },
  ],
  google: [
    { name: 'a service account ID token for the audience', claims: google, expect: 'ok' },
    { name: 'iss without https://', claims: () => ({ ...google(), iss: 'accounts.google.com' }), expect: 'ok' },
    { name: "gcloud's own audience", claims: () => ({ ...google(), aud: '32555940559.apps.googleusercontent.com' }), expect: 'audience_mismatch' },
    { name: 'another service account', claims: () => ({ ...google(), email: 'other@acme-prod.iam.gserviceaccount.com' }), expect: 'claim_mismatch' },
    { name: 'minted without the email', claims: () => without(google(), 'email', 'email_verified'), expect: 'claim_missing' },
    { name: 'a Firebase token', claims: () => ({ ...firebase(), aud: 'https://orders.acme.example' }), expect: 'issuer_mismatch' },
  ],
  cognito: [
    { name: 'a client-credentials access token', claims: cognito, expect: 'ok' },
    { name: 'an ID token (token_use)', claims: () => ({ ...without(cognito(), 'client_id', 'scope'), token_use: 'id', aud: COGNITO_CLIENT }), expect: 'claim_mismatch' },
    { name: 'an ID token (no client_id)', claims: () => ({ ...without(cognito(), 'client_id', 'scope'), token_use: 'id', aud: COGNITO_CLIENT }), expect: 'claim_missing' },
    { name: 'another app client', claims: () => ({ ...cognito(), client_id: 'otherclient123' }), expect: 'audience_mismatch' },
    { name: 'another pool', claims: () => ({ ...cognito(), iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' }), expect: 'issuer_mismatch' },
    { name: 'no scope', claims: () => ({ ...cognito(), scope: 'orders/write' }), expect: 'scope_insufficient' },
  ],
  firebase: [
    { name: "a signed-in user's ID token", claims: firebase, expect: 'ok' },
    { name: "another project's token", claims: () => ({ ...firebase(), iss: 'https://securetoken.google.com/other-prod', aud: 'other-prod' }), expect: 'issuer_mismatch' },
    { name: 'a Google ID token', claims: () => ({ ...google(), aud: 'acme-prod' }), expect: 'issuer_mismatch' },
    { name: 'a custom token', claims: () => ({ iss: 'firebase-adminsdk@acme-prod.iam.gserviceaccount.com', sub: 'firebase-adminsdk@acme-prod.iam.gserviceaccount.com', aud: 'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit', uid: 'kX9a8b7c', ...times() }), expect: 'issuer_mismatch' },
    { name: 'an unverified e-mail (the optional rule)', claims: () => ({ ...firebase(), email_verified: false }), expect: 'claim_mismatch' },
  ],
  keycloak: [
    { name: 'an access token with the audience', claims: keycloak, expect: 'ok' },
    { name: 'an ID token', claims: () => ({ ...keycloak(), typ: 'ID', aud: 'orders-frontend' }), expect: 'claim_mismatch' },
    { name: 'no audience mapper (aud only account)', claims: () => ({ ...keycloak(), aud: 'account' }), expect: 'audience_mismatch' },
    { name: 'no audience at all', claims: () => without(keycloak(), 'aud'), expect: 'claim_missing' },
    { name: 'a refresh token (HS512)', claims: () => ({ ...keycloak(), typ: 'Refresh' }), hmac: true, expect: 'alg_not_allowed' },
    { name: 'another realm', claims: () => ({ ...keycloak(), iss: 'https://sso.acme.example/realms/other' }), expect: 'issuer_mismatch' },
    { name: 'the pre-17 /auth form', claims: () => ({ ...keycloak(), iss: 'https://sso.acme.example/auth/realms/acme' }), expect: 'issuer_mismatch' },
    { name: 'another client', claims: () => ({ ...keycloak(), azp: 'admin-cli' }), expect: 'app_mismatch' },
  ],
  'cloudflare-access': [
    { name: "a user's application token", claims: access, expect: 'ok' },
    { name: 'another application', claims: () => ({ ...access(), aud: ['0'.repeat(64)] }), expect: 'audience_mismatch' },
    { name: 'the organization token', claims: () => ({ ...access(), type: 'org' }), expect: 'claim_mismatch' },
    { name: 'another team', claims: () => ({ ...access(), iss: 'https://evil.cloudflareaccess.com' }), expect: 'issuer_mismatch' },
    // A service token is accepted by the preset (common_name is its subject), but has no email: the guide's optional rule keeps it out.
    { name: 'a service-token assertion (no email, the optional rule)', claims: () => ({ ...without(access(), 'email'), sub: '', common_name: 'svc.access' }), expect: 'claim_missing' },
    { name: 'an empty sub without common_name', claims: () => ({ ...without(access(), 'email'), sub: '' }), expect: 'claim_invalid' },
  ],
  rfc9068: [
    { name: 'an at+jwt token for the resource', claims: as, header: { typ: 'at+jwt' }, expect: 'ok' },
    { name: 'an ID token', claims: () => ({ ...without(as(), 'client_id', 'jti', 'scope'), aud: 's6BhdRkqt3' }), header: { typ: 'JWT' }, expect: 'typ_mismatch' },
    { name: 'another resource', claims: () => ({ ...as(), aud: 'https://billing.acme.example' }), header: { typ: 'at+jwt' }, expect: 'audience_mismatch' },
    { name: 'no jti', claims: () => without(as(), 'jti'), header: { typ: 'at+jwt' }, expect: 'claim_missing' },
    { name: 'an opaque access token', raw: '2YotnFZFEjr1zCsicMWpAA', expect: 'token_malformed' },
  ],
  'app-scoped': [
    { name: "the app's token", claims: platform, path: '/billing/invoices', expect: 'ok' },
    { name: "another app's token", claims: () => ({ ...platform(), app_id: 'reports' }), path: '/billing/invoices', expect: 'app_mismatch' },
    { name: 'no app_id', claims: () => without(platform(), 'app_id'), path: '/billing/invoices', expect: 'claim_missing' },
    { name: 'another audience', claims: () => ({ ...platform(), aud: 'https://other.platform.example' }), path: '/billing/invoices', expect: 'audience_mismatch' },
  ],
};

let world: OutsideWorld;
let logs: RecordCapture;
const built = new Map<GuidePolicy, { gateway: Gateway; key: TestKey }>();

beforeAll(async () => {
  world = new OutsideWorld();
  for (const policy of guidePolicies) {
    const config = compileOrThrow(policy.text, policy.file);
    const key = await makeKey('RS256', `guide-${policy.line}`);
    for (const issuer of Object.values(config.issuers)) if (issuer.keySource.kind === 'jwks') world.serveJwks(issuer.keySource.url, jwksOf(key));
    for (const route of config.routes) if (route.origin) world.origin(new URL(route.origin).host);
    built.set(policy, { gateway: gatewayForText(policy.text, policy.file), key });
  }
  world.install();
  logs = new RecordCapture();
});
afterAll(() => {
  world.restore();
  logs.restore();
});

async function tokenFor(c: Case, key: TestKey): Promise<string> {
  if (c.raw) return c.raw;
  if (!c.hmac) return sign(key, c.claims!(), { header: { typ: 'JWT', ...c.header } });
  const secret = await crypto.subtle.importKey('raw', new Uint8Array(64).fill(7), { name: 'HMAC', hash: 'SHA-512' }, false, ['sign']);
  return new SignJWT(c.claims!()).setProtectedHeader({ alg: 'HS512', typ: 'JWT', kid: 'realm-hmac' }).sign(secret);
}

describe.each(guidePolicies.map((p) => [p.presets.join('+'), p] as const))('the guide section for %s', (preset, policy) => {
  it('is exercised here', () => expect(CASES[preset], `no cases for the guide's "${preset}" policy`).toBeDefined());

  it.each((CASES[preset] ?? []).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { gateway, key } = built.get(policy)!;
    // Access hands its token over in Cf-Access-Jwt-Assertion (the preset's first token source), every other issuer as a bearer.
    const token = await tokenFor(c, key);
    const request = new Request(`https://api.acme.example${c.path ?? '/orders/42'}`, { method: c.method ?? 'GET', headers: preset === 'cloudflare-access' ? { 'cf-access-jwt-assertion': token } : bearer(token) });
    const response = await send(gateway, request);
    const codes = logs.last().findings.map((f) => f.code);
    if (c.expect === 'ok') {
      expect(codes).toEqual([]);
      expect(response.status).toBe(200);
    } else {
      expect(codes).toContain(c.expect);
      expect(response.status).toBe(c.expect === 'scope_insufficient' ? 403 : 401);
    }
  });
});
