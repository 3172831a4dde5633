/** Preset expansion and the compile errors of the new policy fields (presets, claims, modes, HMAC), each with its path. */
import { describe, expect, it } from 'vitest';
import { compilePolicies, formatPolicyError } from '../../../src/config/compile.ts';
import type { CompiledIssuer } from '../../../src/config/types.ts';

const policy = (value: object) => JSON.stringify(value, null, 2);
const ORIGIN = 'https://origin.example';

function issuerOf(source: object): CompiledIssuer {
  const result = compilePolicies([{ file: 'p.jsonc', text: policy({ issuers: { idp: source } }) }]);
  if (!result.ok) throw new Error(result.errors.map(formatPolicyError).join('\n'));
  return result.config.issuers.idp!;
}

function errorsOf(value: object) {
  const result = compilePolicies([{ file: 'policies/p.jsonc', text: policy(value) }]);
  if (result.ok) throw new Error('expected the policy to be refused');
  return result.errors.map(({ path, message }) => ({ path, message }));
}

describe('presets expand into full issuers', () => {
  it.each<[string, object, Partial<CompiledIssuer>]>([
    ['auth0', { preset: 'auth0', tenant: 'acme.eu.auth0.com' }, { issuer: 'https://acme.eu.auth0.com/', keySource: { kind: 'jwks', url: 'https://acme.eu.auth0.com/.well-known/jwks.json' }, appClaim: ['azp'], typ: null }],
    ['okta (default server)', { preset: 'okta', tenant: 'acme.okta.com' }, { issuer: 'https://acme.okta.com/oauth2/default', keySource: { kind: 'jwks', url: 'https://acme.okta.com/oauth2/default/v1/keys' }, appClaim: ['cid'] }],
    ['okta (custom server)', { preset: 'okta', tenant: 'acme.okta.com', authorization_server: 'aus1a2b3c' }, { issuer: 'https://acme.okta.com/oauth2/aus1a2b3c' }],
    [
      'entra',
      { preset: 'entra', tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
      { issuer: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0', keySource: { kind: 'jwks', url: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/discovery/v2.0/keys' }, appClaim: ['azp'] },
    ],
    ['google', { preset: 'google' }, { issuer: 'https://accounts.google.com', issAliases: ['accounts.google.com'], keySource: { kind: 'jwks', url: 'https://www.googleapis.com/oauth2/v3/certs' } }],
    [
      'cognito',
      { preset: 'cognito', user_pool_id: 'us-gov-west-1_AbC123' },
      { issuer: 'https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_AbC123', audienceClaim: ['client_id'], appClaim: ['client_id'], claims: [{ path: ['token_use'], test: { kind: 'equals', value: 'access' } }] },
    ],
    ['firebase', { preset: 'firebase', project_id: 'acme-prod' }, { issuer: 'https://securetoken.google.com/acme-prod' }],
    ['keycloak', { preset: 'keycloak', base_url: 'https://sso.example.com/auth', realm: 'acme' }, { issuer: 'https://sso.example.com/auth/realms/acme', keySource: { kind: 'jwks', url: 'https://sso.example.com/auth/realms/acme/protocol/openid-connect/certs' } }],
    ['cloudflare-access', { preset: 'cloudflare-access', team: 'acme' }, { issuer: 'https://acme.cloudflareaccess.com', keySource: { kind: 'jwks', url: 'https://acme.cloudflareaccess.com/cdn-cgi/access/certs' } }],
    ['rfc9068', { preset: 'rfc9068', issuer: 'https://as.example', jwks_uri: 'https://as.example/jwks' }, { typ: 'at+jwt', appClaim: ['client_id'] }],
    ['app-scoped', { preset: 'app-scoped', issuer: 'https://id.example/', jwks_uri: 'https://id.example/jwks' }, { appClaim: ['app_id'], claims: [{ path: ['app_id'], test: { kind: 'exists' } }] }],
  ])('%s', (_name, source, expected) => {
    expect(issuerOf(source)).toMatchObject({ ...expected, preset: (source as { preset: string }).preset, algorithms: ['RS256'] });
  });

  it.each<[string, object, Partial<CompiledIssuer>]>([
    ['auth0, default profile: azp, untyped', { preset: 'auth0', tenant: 'a.auth0.com' }, { appClaim: ['azp'], typ: null }],
    ['auth0, RFC 9068 profile: client_id, typ at+jwt, RFC 9068 claims', { preset: 'auth0', tenant: 'a.auth0.com', profile: 'rfc9068' }, { appClaim: ['client_id'], typ: 'at+jwt', claims: ['client_id', 'iat', 'jti'].map((name) => ({ path: [name], test: { kind: 'exists' as const } })) }],
    ['cloudflare-access: the app is the AUD tag, for users and service tokens alike', { preset: 'cloudflare-access', team: 'acme' }, { appClaim: ['aud'], claims: [{ path: ['type'], test: { kind: 'equals', value: 'app' } }] }],
    ['azure-ad-b2c: azp, no ver rule (B2C writes "1.0")', { preset: 'azure-ad-b2c', tenant: 'contoso', tenant_id: '775527ff-9a37-4307-8b3d-cc311f58d925', user_flow: 'B2C_1_susi' }, { appClaim: ['azp'], typ: null }],
    [
      'entra-external-id: v2 rules of its tenant',
      { preset: 'entra-external-id', tenant: 'contoso', tenant_id: '775527ff-9a37-4307-8b3d-cc311f58d925' },
      { appClaim: ['azp'], claims: [{ path: ['ver'], test: { kind: 'equals', value: '2.0' } }, { path: ['tid'], test: { kind: 'equals', value: '775527ff-9a37-4307-8b3d-cc311f58d925' } }, { path: ['azp'], test: { kind: 'exists' } }] },
    ],
  ])('%s', (_name, source, expected) => {
    expect(issuerOf(source)).toMatchObject(expected);
  });

  it.each<[string, object, number]>([
    ['auth0: up to 30 days (the API setting\'s maximum)', { preset: 'auth0', tenant: 'a.auth0.com' }, 30 * 86400],
    ['entra: 28 h (continuous access evaluation)', { preset: 'entra', tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47' }, 28 * 3600],
    ['entra in a national cloud: the same', { preset: 'entra', tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', cloud: 'usgov' }, 28 * 3600],
    ['cloudflare-access: the longest application session, 730 h', { preset: 'cloudflare-access', team: 'acme' }, 730 * 3600],
    ['okta: the gateway default, 24 h (Okta\'s maximum is 1 day)', { preset: 'okta', tenant: 'acme.okta.com' }, 86400],
    ['cognito: 24 h (Cognito\'s maximum is 1 day)', { preset: 'cognito', user_pool_id: 'eu-west-1_X1' }, 86400],
    ['a policy value wins over the preset\'s', { preset: 'auth0', tenant: 'a.auth0.com', max_lifetime_seconds: 86400 }, 86400],
  ])('lifetime cap: %s', (_name, source, seconds) => {
    expect(issuerOf(source).maxLifetimeSeconds).toBe(seconds);
  });

  it('keeps what the policy may still set: algorithms, skew, lifetime, app_claim, extra claims after the preset\'s', () => {
    const issuer = issuerOf({ preset: 'cognito', user_pool_id: 'eu-west-1_X1', algorithms: ['RS256', 'PS256'], clock_skew_seconds: 5, max_lifetime_seconds: 7200, app_claim: 'username', claims: [{ claim: 'cognito:groups', contains: 'admins' }] });
    expect(issuer).toMatchObject({ algorithms: ['RS256', 'PS256'], clockSkewSeconds: 5, maxLifetimeSeconds: 7200, appClaim: ['username'] });
    expect(issuer.claims).toEqual([
      { path: ['token_use'], test: { kind: 'equals', value: 'access' } },
      { path: ['cognito:groups'], test: { kind: 'contains', value: 'admins' } },
    ]);
  });
});

describe('refuses broken new fields with a readable message at the JSON path', () => {
  const route = { path: '/a/*', issuers: ['idp'], audiences: ['a'], origin: ORIGIN };
  it.each<[string, object, { path: string; message: string | RegExp }]>([
    ['an unknown preset', { issuers: { idp: { preset: 'auth1', tenant: 'x.auth0.com' } } }, { path: '/issuers/idp/preset', message: /does not match any of/ }],
    ['a preset without its parameter', { issuers: { idp: { preset: 'auth0' } } }, { path: '/issuers/idp', message: 'preset "auth0" needs "tenant"' }],
    ['a parameter the preset does not take', { issuers: { idp: { preset: 'google', tenant: 'acme' } } }, { path: '/issuers/idp/tenant', message: 'preset "google" takes no "tenant" (it takes: no parameters)' }],
    ['a tenant written as a URL', { issuers: { idp: { preset: 'auth0', tenant: 'https://acme.auth0.com/' } } }, { path: '/issuers/idp/tenant', message: /without https:\/\/ or a path/ }],
    ['the Entra "common" endpoint without its tenants', { issuers: { idp: { preset: 'entra', tenant: 'common' } } }, { path: '/issuers/idp', message: /a multi-tenant issuer needs "tenants"/ }],
    ['an Entra domain name', { issuers: { idp: { preset: 'entra', tenant: 'contoso.com' } } }, { path: '/issuers/idp/tenant', message: /domain names have no single iss/ }],
    ['a Cognito pool id without its region', { issuers: { idp: { preset: 'cognito', user_pool_id: 'AbC123' } } }, { path: '/issuers/idp/user_pool_id', message: /region, "_", id/ }],
    ['a Keycloak base_url with a trailing slash', { issuers: { idp: { preset: 'keycloak', base_url: 'https://sso.example/', realm: 'r' } } }, { path: '/issuers/idp/base_url', message: /without a trailing "\/"/ }],
    ['a preset with its own jwks_uri', { issuers: { idp: { preset: 'auth0', tenant: 'a.auth0.com', jwks_uri: 'https://evil.example/jwks' } } }, { path: '/issuers/idp/jwks_uri', message: /preset "auth0" decides "jwks_uri"/ }],
    ['a preset with issuer', { issuers: { idp: { preset: 'okta', tenant: 'a.okta.com', issuer: 'https://a.okta.com' } } }, { path: '/issuers/idp/issuer', message: /preset "okta" decides "issuer"/ }],
    ['a generic preset without jwks_uri', { issuers: { idp: { preset: 'rfc9068', issuer: 'https://as.example' } } }, { path: '/issuers/idp', message: 'preset "rfc9068" needs "jwks_uri"' }],
    ['neither issuer nor preset', { issuers: { idp: { jwks_uri: 'https://a.example/jwks' } } }, { path: '/issuers/idp', message: 'give "issuer" (the exact iss) or a "preset"' }],
    ['HMAC with a preset', { issuers: { idp: { preset: 'auth0', tenant: 'a.auth0.com', algorithms: ['HS256'] } } }, { path: '/issuers/idp/algorithms/0', message: /HS256 needs the secret from a Worker secret/ }],
    ['secret_binding with a preset', { issuers: { idp: { preset: 'auth0', tenant: 'a.auth0.com', secret_binding: 'S', algorithms: ['HS256'] } } }, { path: '/issuers/idp/secret_binding', message: /preset "auth0" decides "secret_binding"/ }],
    ['secret_binding with jwks_uri', { issuers: { idp: { issuer: 'i', jwks_uri: 'https://a.example/jwks', secret_binding: 'S', algorithms: ['HS256'] } } }, { path: '/issuers/idp/secret_binding', message: /no "jwks_uri", "keys", "discovery" or "preset" with it/ }],
    ['secret_binding with RS256', { issuers: { idp: { issuer: 'i', secret_binding: 'S', algorithms: ['HS256', 'RS256'] } } }, { path: '/issuers/idp/algorithms', message: /HS256, HS384 or HS512 only/ }],
    ['secret_binding without algorithms', { issuers: { idp: { issuer: 'i', secret_binding: 'S' } } }, { path: '/issuers/idp/algorithms', message: /HS256, HS384 or HS512 only/ }],
    ['HS512 with inline keys', { issuers: { idp: { issuer: 'i', keys: [{ kty: 'RSA' }], algorithms: ['HS512'] } } }, { path: '/issuers/idp/algorithms/0', message: /HS512 needs the secret/ }],
    ['a claim rule with two tests', { issuers: { idp: { issuer: 'i', secret_binding: 'S', algorithms: ['HS256'] } }, routes: { a: { ...route, claims: [{ claim: 'x' }, { claim: 'x', equals: 'a', contains: 'b' }] } } }, { path: '/routes/a/claims/1', message: /at most one of "equals", "one_of", "contains" and "equals_path_variable"/ }],
    ['a claim rule with an object value', { routes: { a: { ...route, claims: [{ claim: 'x', equals: { a: 1 } }] } } }, { path: '/routes/a/claims/0/equals', message: /type/ }],
    ['a claim rule with an unknown test', { routes: { a: { ...route, claims: [{ claim: 'x', matches: 'a.*' }] } } }, { path: '/routes/a/claims/0/matches', message: 'unknown field "matches"' }],
    ['an empty claim path', { routes: { a: { ...route, claims: [{ claim: [] }] } } }, { path: '/routes/a/claims/0/claim', message: /items|length/ }],
    ['an unknown mode', { routes: { a: { ...route, mode: 'audit' } } }, { path: '/routes/a/mode', message: /does not match any of/ }],
    ['an optional route without audiences', { issuers: { idp: { issuer: 'i', secret_binding: 'S', algorithms: ['HS256'] } }, routes: { a: { ...route, mode: 'optional', audiences: undefined } } }, { path: '/routes/a', message: 'a route in mode "optional" needs "audiences" (RFC 8725 section 3.9)' }],
    ['a report-only route without issuers', { routes: { a: { ...route, mode: 'report-only', issuers: undefined } } }, { path: '/routes/a', message: 'a route in mode "report-only" needs "issuers"' }],
    ['claims on a public route', { routes: { a: { path: '/a', mode: 'public', origin: ORIGIN, claims: [{ claim: 'x' }] } } }, { path: '/routes/a/claims', message: /would never be enforced/ }],
    [
      'app on a route of a Cloudflare Access issuer (its app claim is the aud list)',
      { issuers: { cf: { preset: 'cloudflare-access', team: 'acme' } }, routes: { a: { ...route, issuers: ['cf'], app: 'tag' } } },
      { path: '/routes/a/app', message: /issuer "cf": Cloudflare Access names the application only by its AUD tag/ },
    ],
    ['cors_preflight on a public route', { routes: { a: { path: '/a', mode: 'public', origin: ORIGIN, cors_preflight: true } } }, { path: '/routes/a/cors_preflight', message: /would change nothing/ }],
  ])('%s', (_name, value, expected) => {
    expect(errorsOf(value)).toContainEqual({ path: expected.path, message: expected.message instanceof RegExp ? expect.stringMatching(expected.message) : expected.message });
  });

  it('lets a Cloudflare Access route set app once the policy names the app claim itself', () => {
    const text = policy({ issuers: { cf: { preset: 'cloudflare-access', team: 'acme', app_claim: 'common_name' } }, routes: { a: { path: '/a/*', issuers: ['cf'], audiences: ['tag'], app: 'x.access', origin: ORIGIN } } });
    expect(compilePolicies([{ file: 'p.jsonc', text }]).ok).toBe(true);
  });

  it('prints file, line, column, path and reason for a preset typo', () => {
    const text = '{\n  "issuers": {\n    "idp": { "preset": "okta", "tenant": "acme.okta.com", "authorization_server": "default/v1" }\n  }\n}\n';
    const result = compilePolicies([{ file: 'policies/idp.jsonc', text }]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map(formatPolicyError)).toEqual([
        'policies/idp.jsonc:3:59: /issuers/idp/authorization_server: an authorization server id such as "default" or "aus1a2b3c"',
      ]);
    }
  });
});
