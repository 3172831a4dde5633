/**
 * Every preset, through the gateway built from policies/examples/presets.jsonc, with tokens of the shape
 * that identity provider really issues (header and claims as documented by it, values made up): accepted
 * where they should be, refused on that provider's known confusions with the finding that says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, type JWTPayload } from 'jose';
import type { CompiledConfig } from '../../src/config/types.ts';
import { Gateway } from '../../src/gateway.ts';
import { bearer, compileOrThrow, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { examplePolicyFiles } from '../helpers/policy-files.ts';
import { RecordCapture } from '../helpers/records.ts';

const FILE = 'policies/examples/presets.jsonc';
let config: CompiledConfig;
let gateway: Gateway;
let world: OutsideWorld;
let logs: RecordCapture;
const keys: Record<string, TestKey> = {};

beforeAll(async () => {
  config = compileOrThrow(examplePolicyFiles[FILE]!, FILE);
  gateway = new Gateway(config, { allowLoopbackHttp: false });
  world = new OutsideWorld().origin('origin.example');
  // One key per JWKS URL: two issuers of one Auth0 tenant (both profiles) share its keys, as they do at Auth0.
  const keyOfUrl = new Map<string, TestKey>();
  for (const issuer of Object.values(config.issuers)) {
    const url = issuer.keySource.kind === 'jwks' ? issuer.keySource.url : issuer.id;
    if (!keyOfUrl.has(url)) {
      keyOfUrl.set(url, await makeKey('RS256', `${issuer.id}-kid-1`));
      if (issuer.keySource.kind === 'jwks') world.serveJwks(url, jwksOf(keyOfUrl.get(url)!));
    }
    keys[issuer.id] = keyOfUrl.get(url)!;
  }
  world.install();
  logs = new RecordCapture();
});
afterAll(() => {
  world.restore();
  logs.restore();
});

const T = () => nowSeconds();
type Case = { name: string; claims: () => JWTPayload; header?: Record<string, unknown>; expect: string[] | 'ok'; hmac?: 'HS512' };
interface PresetCases {
  issuer: string;
  path: string;
  /** Where the preset's JWKS must be. */
  jwks: string;
  iss: string;
  cases: Case[];
}

const ENTRA_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_API = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const ENTRA_CLIENT = '2a1b7c3d-0000-4000-8000-000000000001';
const ACCESS_AUD = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';

const auth0Access = (): JWTPayload => ({
  iss: 'https://acme.eu.auth0.com/',
  sub: 'auth0|64b7f0c2e1d3a4b5c6d7e8f9',
  aud: ['https://api.acme.example', 'https://acme.eu.auth0.com/userinfo'],
  iat: T() - 5,
  exp: T() + 86400 - 5,
  scope: 'openid profile orders:read',
  azp: 'auth0-client-spa',
  permissions: ['orders:read'],
});
const oktaAccess = (): JWTPayload => ({
  ver: 1,
  jti: 'AT.k3Cz1u2OvfkZ8m0FQ7d9x',
  iss: 'https://acme.okta.com/oauth2/default',
  aud: 'api://default',
  iat: T() - 5,
  exp: T() + 3595,
  cid: '0oa1okta2client3',
  uid: '00u1abcd2EFGH3ijk4x7',
  scp: ['openid', 'orders:read'],
  auth_time: T() - 60,
  sub: 'alice@acme.example',
});
const entraAccess = (): JWTPayload => ({
  aud: ENTRA_API,
  iss: `https://login.microsoftonline.com/${ENTRA_TENANT}/v2.0`,
  iat: T() - 5,
  nbf: T() - 5,
  exp: T() + 3900,
  aio: 'AWQAm/8UAAAA',
  azp: ENTRA_CLIENT,
  azpacr: '0',
  name: 'Alice',
  oid: '9f3b1c2d-1111-4222-8333-444455556666',
  preferred_username: 'alice@acme.example',
  rh: '0.AQ4Av4j5cvGGr0GRqy180BHbR.',
  scp: 'Orders.Read',
  sub: 'hGz1sC4fX8oK2mQ5vY7nR9tW3uE6iL0pA',
  tid: ENTRA_TENANT,
  uti: 'Xb2cD3eF4gH5iJ6kL7mN8',
  ver: '2.0',
});
const googleId = (): JWTPayload => ({
  iss: 'https://accounts.google.com',
  azp: 'invoker@acme-prod.iam.gserviceaccount.com',
  aud: 'https://run.acme.example',
  sub: '110169484474386276334',
  email: 'invoker@acme-prod.iam.gserviceaccount.com',
  email_verified: true,
  iat: T() - 5,
  exp: T() + 3595,
});
const cognitoAccess = (): JWTPayload => ({
  sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  'cognito:groups': ['admins'],
  iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz',
  version: 2,
  client_id: '3n4b5urk1ft4fl3mg5e62d9ado',
  origin_jti: 'aaaaaaaa-1111-2222-3333-444444444444',
  event_id: 'bbbbbbbb-1111-2222-3333-444444444444',
  token_use: 'access',
  scope: 'orders/read orders/write',
  auth_time: T() - 5,
  exp: T() + 3595,
  iat: T() - 5,
  jti: 'cccccccc-1111-2222-3333-444444444444',
  username: 'alice',
});
const firebaseId = (): JWTPayload => ({
  name: 'Alice',
  iss: 'https://securetoken.google.com/acme-prod',
  aud: 'acme-prod',
  auth_time: T() - 60,
  user_id: 'kX9a8b7c6d5e4f3g2h1i0j',
  sub: 'kX9a8b7c6d5e4f3g2h1i0j',
  iat: T() - 5,
  exp: T() + 3595,
  email: 'alice@acme.example',
  email_verified: true,
  firebase: { identities: { email: ['alice@acme.example'] }, sign_in_provider: 'password' },
});
const keycloakAccess = (): JWTPayload => ({
  exp: T() + 295,
  iat: T() - 5,
  auth_time: T() - 60,
  jti: 'onrtac:9d8c7b6a-1111-2222-3333-444444444444',
  iss: 'https://sso.acme.example/realms/acme',
  aud: ['orders-api', 'account'],
  sub: 'f1e2d3c4-5555-6666-7777-888899990000',
  typ: 'Bearer',
  azp: 'orders-frontend',
  sid: '1a2b3c4d-5555-6666-7777-888899990000',
  acr: '1',
  realm_access: { roles: ['default-roles-acme', 'offline_access'] },
  resource_access: { account: { roles: ['manage-account'] } },
  scope: 'openid email profile',
  email_verified: true,
  preferred_username: 'alice',
});
const accessApp = (): JWTPayload => ({
  aud: [ACCESS_AUD],
  email: 'alice@acme.example',
  exp: T() + 86000,
  iat: T() - 5,
  nbf: T() - 5,
  iss: 'https://acme.cloudflareaccess.com',
  type: 'app',
  identity_nonce: '6ei69kawdKzMIAPF',
  sub: '7335d417-61da-459d-899c-0a01c76a2f94',
  country: 'DE',
});
const auth0Rfc9068Access = (): JWTPayload => ({ ...without(auth0Access(), 'azp'), client_id: 'auth0-client-spa', jti: '73WakrfVbNJBaAmhQtEeDv' });
const entraGovAccess = (): JWTPayload => ({ ...entraAccess(), iss: `https://login.microsoftonline.us/${ENTRA_TENANT}/v2.0` });
const B2C_TENANT_ID = '775527ff-9a37-4307-8b3d-cc311f58d925';
const b2cAccess = (): JWTPayload => ({
  aud: '90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6',
  iss: `https://acme.b2clogin.com/${B2C_TENANT_ID}/v2.0/`,
  iat: T() - 5,
  nbf: T() - 5,
  exp: T() + 3595,
  ver: '1.0',
  sub: '884408e1-2918-4c20-b12d-3aa027d7563b',
  tfp: 'B2C_1_signupsignin1',
  auth_time: T() - 60,
  scp: 'Read',
  azp: '975251ed-e4f5-4efd-abcb-5f1a8f566ab7',
});
const ciamAccess = (): JWTPayload => ({ ...entraAccess(), aud: '90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6', iss: `https://${B2C_TENANT_ID}.ciamlogin.com/${B2C_TENANT_ID}/v2.0`, tid: B2C_TENANT_ID });
const accessService = (): JWTPayload => ({ type: 'app', aud: [ACCESS_AUD], exp: T() + 86000, iss: 'https://acme.cloudflareaccess.com', common_name: 'e367826f93b8d71185e03fe518aff3b4.access', iat: T() - 5, sub: '' });
const rfc9068Access = (): JWTPayload => ({
  iss: 'https://as.acme.example',
  exp: T() + 295,
  aud: 'https://api.acme.example',
  sub: '5ba552d67',
  client_id: 's6BhdRkqt3',
  iat: T() - 5,
  jti: 'dbe39bf3a3ba4238a513f51d6e1691c4',
  scope: 'openid profile reademail',
});
const platformAccess = (): JWTPayload => ({ iss: 'https://id.platform.example/', aud: 'https://api.platform.example', sub: 'u-1', app_id: 'billing', iat: T() - 5, exp: T() + 295 });

/** Keycloak signs refresh tokens with a realm HMAC key (HS512). */
async function hmacSigned(claims: JWTPayload): Promise<string> {
  const secret = await crypto.subtle.importKey('raw', new Uint8Array(64).fill(7), { name: 'HMAC', hash: 'SHA-512' }, false, ['sign']);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS512', typ: 'JWT', kid: 'realm-hmac' }).sign(secret);
}

const without = (claims: JWTPayload, ...names: string[]) => Object.fromEntries(Object.entries(claims).filter(([k]) => !names.includes(k)));

const PRESETS: PresetCases[] = [
  {
    issuer: 'auth0',
    path: '/auth0/orders',
    jwks: 'https://acme.eu.auth0.com/.well-known/jwks.json',
    iss: 'https://acme.eu.auth0.com/',
    cases: [
      { name: 'an access token for the API', claims: auth0Access, header: { typ: 'JWT' }, expect: 'ok' },
      { name: 'a client-credentials token (sub client@clients, gty)', claims: () => ({ ...auth0Access(), sub: 'auth0-client-spa@clients', gty: 'client-credentials', aud: 'https://api.acme.example' }), expect: 'ok' },
      { name: 'an ID token (aud = client id)', claims: () => ({ ...without(auth0Access(), 'scope', 'permissions'), aud: 'auth0-client-spa', nonce: 'n-0S6_WzA2Mj', email: 'a@acme.example' }), expect: ['audience_mismatch'] },
      { name: 'another tenant', claims: () => ({ ...auth0Access(), iss: 'https://evil.eu.auth0.com/' }), expect: ['issuer_mismatch'] },
      { name: 'iss without the trailing slash', claims: () => ({ ...auth0Access(), iss: 'https://acme.eu.auth0.com' }), expect: ['issuer_mismatch'] },
      { name: 'a token for another client of the tenant', claims: () => ({ ...auth0Access(), azp: 'other-client' }), expect: ['app_mismatch'] },
    ],
  },
  {
    issuer: 'auth0-rfc9068',
    path: '/auth0-rfc9068/orders',
    jwks: 'https://acme.eu.auth0.com/.well-known/jwks.json',
    iss: 'https://acme.eu.auth0.com/',
    cases: [
      { name: 'an access token of the RFC 9068 profile (typ at+jwt, client_id)', claims: auth0Rfc9068Access, header: { typ: 'at+jwt' }, expect: 'ok' },
      { name: 'a token of the default profile (typ JWT, azp)', claims: auth0Access, header: { typ: 'JWT' }, expect: ['typ_mismatch', 'claim_missing', 'claim_missing'] },
      { name: 'a token for another client', claims: () => ({ ...auth0Rfc9068Access(), client_id: 'other-client' }), header: { typ: 'at+jwt' }, expect: ['app_mismatch'] },
    ],
  },
  {
    issuer: 'okta',
    path: '/okta/orders',
    jwks: 'https://acme.okta.com/oauth2/default/v1/keys',
    iss: 'https://acme.okta.com/oauth2/default',
    cases: [
      { name: 'an access token of the custom authorization server', claims: oktaAccess, expect: 'ok' },
      { name: 'an ID token (aud = client id, no cid)', claims: () => ({ ...without(oktaAccess(), 'cid', 'scp'), aud: '0oa1okta2client3', amr: ['pwd'], idp: '00o1', nonce: 'n' }), expect: ['audience_mismatch', 'claim_missing', 'scope_insufficient'] },
      { name: 'a token of the org authorization server', claims: () => ({ ...oktaAccess(), iss: 'https://acme.okta.com' }), expect: ['issuer_mismatch'] },
      { name: 'a token without the scope', claims: () => ({ ...oktaAccess(), scp: ['openid'] }), expect: ['scope_insufficient'] },
    ],
  },
  {
    issuer: 'entra',
    path: '/entra/orders',
    jwks: `https://login.microsoftonline.com/${ENTRA_TENANT}/discovery/v2.0/keys`,
    iss: `https://login.microsoftonline.com/${ENTRA_TENANT}/v2.0`,
    cases: [
      { name: 'a v2 access token for the API', claims: entraAccess, header: { typ: 'JWT', x5t: 'nOo3ZDrODXEK1jKWhXslHR_KXEg' }, expect: 'ok' },
      { name: 'a v2 ID token (aud = client, no azp)', claims: () => ({ ...without(entraAccess(), 'azp', 'azpacr', 'scp'), aud: ENTRA_CLIENT, nonce: 'n' }), expect: ['audience_mismatch', 'claim_missing'] },
      { name: 'a v1 token (sts.windows.net)', claims: () => ({ ...without(entraAccess(), 'azp'), iss: `https://sts.windows.net/${ENTRA_TENANT}/`, ver: '1.0', appid: ENTRA_CLIENT }), expect: ['issuer_mismatch'] },
      { name: 'another tenant', claims: () => ({ ...entraAccess(), iss: 'https://login.microsoftonline.com/00000000-0000-4000-8000-000000000000/v2.0', tid: '00000000-0000-4000-8000-000000000000' }), expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'entra-gov',
    path: '/entra-gov/orders',
    jwks: `https://login.microsoftonline.us/${ENTRA_TENANT}/discovery/v2.0/keys`,
    iss: `https://login.microsoftonline.us/${ENTRA_TENANT}/v2.0`,
    cases: [
      { name: 'a v2 access token of the US Government cloud', claims: entraGovAccess, header: { typ: 'JWT' }, expect: 'ok' },
      { name: 'the same tenant in the public cloud', claims: entraAccess, expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'b2c',
    path: '/b2c/orders',
    jwks: 'https://acme.b2clogin.com/acme.onmicrosoft.com/B2C_1_signupsignin1/discovery/v2.0/keys',
    iss: `https://acme.b2clogin.com/${B2C_TENANT_ID}/v2.0/`,
    cases: [
      { name: 'a B2C access token (ver 1.0, tfp, azp)', claims: b2cAccess, header: { typ: 'JWT' }, expect: 'ok' },
      { name: 'an ID token (aud = the client, no azp)', claims: () => ({ ...without(b2cAccess(), 'azp', 'scp'), aud: '975251ed-e4f5-4efd-abcb-5f1a8f566ab7', nonce: 'n' }), expect: ['audience_mismatch', 'claim_missing'] },
      { name: 'iss without the trailing slash', claims: () => ({ ...b2cAccess(), iss: `https://acme.b2clogin.com/${B2C_TENANT_ID}/v2.0` }), expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'ciam',
    path: '/ciam/orders',
    jwks: `https://acme.ciamlogin.com/${B2C_TENANT_ID}/discovery/v2.0/keys`,
    iss: `https://${B2C_TENANT_ID}.ciamlogin.com/${B2C_TENANT_ID}/v2.0`,
    cases: [
      { name: 'an External ID access token', claims: ciamAccess, header: { typ: 'JWT' }, expect: 'ok' },
      { name: 'the subdomain form of iss', claims: () => ({ ...ciamAccess(), iss: `https://acme.ciamlogin.com/${B2C_TENANT_ID}/v2.0` }), expect: 'ok' },
      { name: 'a workforce-tenant token (login.microsoftonline.com)', claims: () => ({ ...ciamAccess(), iss: `https://login.microsoftonline.com/${B2C_TENANT_ID}/v2.0` }), expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'cognito-cn',
    path: '/cognito-cn/orders',
    jwks: 'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123xyz/.well-known/jwks.json',
    iss: 'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123xyz',
    cases: [
      { name: 'an access token of a Beijing pool', claims: () => ({ ...cognitoAccess(), iss: 'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123xyz' }), expect: 'ok' },
      { name: 'the same pool id under amazonaws.com', claims: () => ({ ...cognitoAccess(), iss: 'https://cognito-idp.cn-north-1.amazonaws.com/cn-north-1_AbC123xyz' }), expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'google',
    path: '/google/invoke',
    jwks: 'https://www.googleapis.com/oauth2/v3/certs',
    iss: 'https://accounts.google.com',
    cases: [
      { name: 'an ID token with iss https://accounts.google.com', claims: googleId, header: { typ: 'JWT' }, expect: 'ok' },
      { name: 'an ID token with iss accounts.google.com', claims: () => ({ ...googleId(), iss: 'accounts.google.com' }), expect: 'ok' },
      { name: 'an ID token for another service', claims: () => ({ ...googleId(), aud: 'https://other.run.app' }), expect: ['audience_mismatch'] },
      { name: 'a Firebase token (Google-signed, other iss)', claims: firebaseId, expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'cognito',
    path: '/cognito/orders',
    jwks: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz/.well-known/jwks.json',
    iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz',
    cases: [
      { name: 'an access token (no aud, client_id)', claims: cognitoAccess, expect: 'ok' },
      {
        name: 'an ID token (token_use id, aud, no client_id)',
        claims: () => ({ ...without(cognitoAccess(), 'client_id', 'scope', 'username'), token_use: 'id', aud: '3n4b5urk1ft4fl3mg5e62d9ado', at_hash: 'x', 'cognito:username': 'alice' }),
        expect: ['claim_missing', 'scope_insufficient', 'claim_mismatch'],
      },
      { name: 'the wrong token_use', claims: () => ({ ...cognitoAccess(), token_use: 'id' }), expect: ['claim_mismatch'] },
      { name: 'another app client', claims: () => ({ ...cognitoAccess(), client_id: 'otherclient0000000000000' }), expect: ['audience_mismatch'] },
      { name: 'another user pool', claims: () => ({ ...cognitoAccess(), iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other0000' }), expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'firebase',
    path: '/firebase/me',
    jwks: 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com',
    iss: 'https://securetoken.google.com/acme-prod',
    cases: [
      { name: 'an ID token of the project', claims: firebaseId, header: { typ: 'JWT' }, expect: 'ok' },
      { name: 'another project', claims: () => ({ ...firebaseId(), iss: 'https://securetoken.google.com/other-proj', aud: 'other-proj' }), expect: ['issuer_mismatch'] },
      { name: 'a Google ID token', claims: googleId, expect: ['issuer_mismatch'] },
      { name: 'no auth_time', claims: () => without(firebaseId(), 'auth_time'), expect: ['claim_missing'] },
    ],
  },
  {
    issuer: 'keycloak',
    path: '/keycloak/orders',
    jwks: 'https://sso.acme.example/realms/acme/protocol/openid-connect/certs',
    iss: 'https://sso.acme.example/realms/acme',
    cases: [
      { name: 'an access token (typ Bearer)', claims: keycloakAccess, header: { typ: 'JWT' }, expect: 'ok' },
      { name: 'an ID token (typ ID, aud = client)', claims: () => ({ ...keycloakAccess(), typ: 'ID', aud: 'orders-frontend', nonce: 'n' }), expect: ['audience_mismatch', 'claim_mismatch'] },
      { name: 'another realm', claims: () => ({ ...keycloakAccess(), iss: 'https://sso.acme.example/realms/master' }), expect: ['issuer_mismatch'] },
      { name: 'the pre-17 /auth/realms iss', claims: () => ({ ...keycloakAccess(), iss: 'https://sso.acme.example/auth/realms/acme' }), expect: ['issuer_mismatch'] },
      { name: 'a token for another client', claims: () => ({ ...keycloakAccess(), azp: 'admin-cli' }), expect: ['app_mismatch'] },
      { name: 'a refresh token (HS512, typ Refresh)', claims: () => ({ ...keycloakAccess(), typ: 'Refresh', aud: 'https://sso.acme.example/realms/acme' }), hmac: 'HS512', expect: ['alg_not_allowed'] },
    ],
  },
  {
    issuer: 'cf-access',
    path: '/access/dashboard',
    jwks: 'https://acme.cloudflareaccess.com/cdn-cgi/access/certs',
    iss: 'https://acme.cloudflareaccess.com',
    cases: [
      { name: 'an application token', claims: accessApp, expect: 'ok' },
      { name: 'a token of a session as long as 730 h', claims: () => ({ ...accessApp(), exp: T() + 730 * 3600 - 5 }), expect: 'ok' },
      // Everything the preset checks passes; the empty sub is refused on every enforced route until service tokens get an identity (issue 22).
      { name: 'a service-token assertion (common_name, sub "")', claims: accessService, expect: ['claim_invalid'] },
      { name: 'a token of another Access application', claims: () => ({ ...accessApp(), aud: ['0000c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2'] }), expect: ['audience_mismatch'] },
      { name: 'the organization token (type org)', claims: () => ({ ...accessApp(), type: 'org' }), expect: ['claim_mismatch'] },
      { name: 'another team', claims: () => ({ ...accessApp(), iss: 'https://evil.cloudflareaccess.com' }), expect: ['issuer_mismatch'] },
    ],
  },
  {
    issuer: 'as',
    path: '/as/orders',
    jwks: 'https://as.acme.example/jwks',
    iss: 'https://as.acme.example',
    cases: [
      { name: 'an RFC 9068 access token', claims: rfc9068Access, header: { typ: 'at+jwt' }, expect: 'ok' },
      { name: 'typ application/at+jwt', claims: rfc9068Access, header: { typ: 'application/at+jwt' }, expect: 'ok' },
      { name: 'an ID token (typ JWT, aud = client, no client_id/jti)', claims: () => ({ ...without(rfc9068Access(), 'client_id', 'jti', 'scope'), aud: 's6BhdRkqt3' }), header: { typ: 'JWT' }, expect: ['typ_mismatch', 'audience_mismatch', 'claim_missing', 'claim_missing'] },
    ],
  },
  {
    issuer: 'platform',
    path: '/platform/invoices',
    jwks: 'https://id.platform.example/.well-known/jwks.json',
    iss: 'https://id.platform.example/',
    cases: [
      { name: 'a token of the app', claims: platformAccess, expect: 'ok' },
      { name: 'a token of another app', claims: () => ({ ...platformAccess(), app_id: 'reports' }), expect: ['app_mismatch'] },
      { name: 'a token without app_id', claims: () => without(platformAccess(), 'app_id'), expect: ['claim_missing'] },
    ],
  },
];

describe.each(PRESETS)('preset of issuer "$issuer"', ({ issuer, path, jwks, iss, cases }) => {
  it('expands to the issuer, iss and JWKS location the provider really uses', () => {
    expect(config.issuers[issuer]).toMatchObject({ issuer: iss, keySource: { kind: 'jwks', url: jwks }, algorithms: ['RS256'] });
  });

  it.each(cases)('$name -> $expect', async ({ claims, header, expect: expected, hmac }) => {
    const token = hmac ? await hmacSigned(claims()) : await sign(keys[issuer]!, claims(), { header: header ?? {} });
    // Access hands its token over in Cf-Access-Jwt-Assertion (the preset's first token source), every other issuer as a bearer.
    const response = await send(gateway, new Request(`https://gw.example${path}`, { headers: issuer === 'cf-access' ? { 'cf-access-jwt-assertion': token } : bearer(token) }));
    const record = logs.last();
    if (expected === 'ok') {
      expect(record.findings).toEqual([]);
      expect(response.status).toBe(200);
      expect(record.outcome).toBe('allowed');
    } else {
      expect(record.findings.map((f) => f.code)).toEqual(expected);
      expect(response.status).toBe(expected.includes('scope_insufficient') && expected.length === 1 ? 403 : 401);
    }
  });
});
