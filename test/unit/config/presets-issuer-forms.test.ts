/**
 * Issuer forms per preset (regions, clouds, custom domains, profiles, trailing slashes): the `iss` and key URL
 * each compiles to, held against the value the provider documents, with the page or file it comes from.
 * A form a provider writes differently (a trailing slash, another host) is a row here before it is a bug.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicies, formatPolicyError } from '../../../src/config/compile.ts';
import type { CompiledIssuer } from '../../../src/config/types.ts';

function issuerOf(source: object): CompiledIssuer {
  const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ issuers: { idp: source } }) }]);
  if (!result.ok) throw new Error(result.errors.map(formatPolicyError).join('\n'));
  return result.config.issuers.idp!;
}

interface Form {
  /** What the row shows. */
  form: string;
  source: object;
  /** The provider's documented values. */
  iss: string;
  aliases?: string[];
  jwks: string;
  /** Where the documented values come from. */
  documented: string;
}

const TID = '775527ff-9a37-4307-8b3d-cc311f58d925';
const ENTRA_TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

const FORMS: Record<string, Form[]> = {
  auth0: [
    {
      form: 'tenant domain (iss ends with "/")',
      source: { preset: 'auth0', tenant: 'my-domain.auth0.com' },
      iss: 'https://my-domain.auth0.com/',
      jwks: 'https://my-domain.auth0.com/.well-known/jwks.json',
      documented: 'auth0.com/docs/secure/tokens/access-tokens/access-token-profiles (sample iss); Auth0 API quickstart text "https://${account.namespace}/.well-known/jwks.json"',
    },
    { form: 'regional tenant', source: { preset: 'auth0', tenant: 'acme.eu.auth0.com' }, iss: 'https://acme.eu.auth0.com/', jwks: 'https://acme.eu.auth0.com/.well-known/jwks.json', documented: 'same pages, region in the host' },
    { form: 'custom domain', source: { preset: 'auth0', tenant: 'login.acme.example' }, iss: 'https://login.acme.example/', jwks: 'https://login.acme.example/.well-known/jwks.json', documented: 'Auth0 custom domains: the custom domain replaces the tenant host (not re-read for this table)' },
    { form: 'RFC 9068 profile: same iss and keys', source: { preset: 'auth0', tenant: 'my-domain.auth0.com', profile: 'rfc9068' }, iss: 'https://my-domain.auth0.com/', jwks: 'https://my-domain.auth0.com/.well-known/jwks.json', documented: 'access-token-profiles: both sample tokens carry the same iss' },
  ],
  okta: [
    { form: 'default custom authorization server', source: { preset: 'okta', tenant: 'dev-447786.okta.com' }, iss: 'https://dev-447786.okta.com/oauth2/default', jwks: 'https://dev-447786.okta.com/oauth2/default/v1/keys', documented: 'Okta docs samples in okta/okta-developer-docs (iss https://{yourOktaDomain}/oauth2/default); jwks https://${yourOktaDomain}/oauth2/${authorizationServerId}/v1/keys as quoted by public integrations' },
    { form: 'named custom authorization server', source: { preset: 'okta', tenant: 'prod-pega.okta.com', authorization_server: 'aus8ahm2k777777' }, iss: 'https://prod-pega.okta.com/oauth2/aus8ahm2k777777', jwks: 'https://prod-pega.okta.com/oauth2/aus8ahm2k777777/v1/keys', documented: 'same page; the sample token in the corpus (okta.json) has this iss' },
    { form: 'preview cell', source: { preset: 'okta', tenant: 'dev-533919.oktapreview.com' }, iss: 'https://dev-533919.oktapreview.com/oauth2/default', jwks: 'https://dev-533919.oktapreview.com/oauth2/default/v1/keys', documented: 'oktapreview.com orgs issue under their own host' },
    { form: 'custom domain', source: { preset: 'okta', tenant: 'id.acme.example' }, iss: 'https://id.acme.example/oauth2/default', jwks: 'https://id.acme.example/oauth2/default/v1/keys', documented: 'Okta custom URL domains: the custom domain replaces the Okta domain (not re-read for this table)' },
  ],
  entra: [
    {
      form: 'public cloud, v2',
      source: { preset: 'entra', tenant: ENTRA_TID },
      iss: `https://login.microsoftonline.com/${ENTRA_TID}/v2.0`,
      jwks: `https://login.microsoftonline.com/${ENTRA_TID}/discovery/v2.0/keys`,
      documented: 'MicrosoftDocs/entra-docs docs/identity-platform/access-tokens.md (the v2.0 sample token; /discovery/v2.0/keys)',
    },
    { form: 'US Government cloud', source: { preset: 'entra', tenant: ENTRA_TID, cloud: 'usgov' }, iss: `https://login.microsoftonline.us/${ENTRA_TID}/v2.0`, jwks: `https://login.microsoftonline.us/${ENTRA_TID}/discovery/v2.0/keys`, documented: 'entra-docs docs/identity-platform/authentication-national-cloud.md: login.microsoftonline.us' },
    { form: 'China (21Vianet)', source: { preset: 'entra', tenant: ENTRA_TID, cloud: 'china' }, iss: `https://login.partner.microsoftonline.cn/${ENTRA_TID}/v2.0`, jwks: `https://login.partner.microsoftonline.cn/${ENTRA_TID}/discovery/v2.0/keys`, documented: 'authentication-national-cloud.md: login.partner.microsoftonline.cn' },
  ],
  'azure-ad-b2c': [
    {
      form: 'b2clogin.com: iss names the tenant id and ends with "/"; keys per user flow',
      source: { preset: 'azure-ad-b2c', tenant: 'contoso', tenant_id: TID, user_flow: 'b2c_1_signupsignin1' },
      iss: `https://contoso.b2clogin.com/${TID}/v2.0/`,
      jwks: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/b2c_1_signupsignin1/discovery/v2.0/keys',
      documented: 'MicrosoftDocs/azure-docs articles/active-directory-b2c/tokens-overview.md (iss example; "the location of the set of public keys")',
    },
    { form: 'custom domain', source: { preset: 'azure-ad-b2c', tenant: 'contoso', tenant_id: TID, user_flow: 'B2C_1A_signup_signin', domain: 'login.contoso.example' }, iss: `https://login.contoso.example/${TID}/v2.0/`, jwks: 'https://login.contoso.example/contoso.onmicrosoft.com/B2C_1A_signup_signin/discovery/v2.0/keys', documented: 'tokens-overview.md: "The default value is https://<domain>/{B2C tenant GUID}/v2.0/"' },
  ],
  'entra-external-id': [
    {
      form: 'ciamlogin.com: the tenant id as host in iss, the subdomain form also accepted',
      source: { preset: 'entra-external-id', tenant: 'contoso', tenant_id: TID },
      iss: `https://${TID}.ciamlogin.com/${TID}/v2.0`,
      aliases: [`https://contoso.ciamlogin.com/${TID}/v2.0`],
      jwks: `https://contoso.ciamlogin.com/${TID}/discovery/v2.0/keys`,
      documented: 'the tenant discovery document (<tenant>.ciamlogin.com/<tenant-id>/v2.0/.well-known/openid-configuration) as quoted by public projects; no Microsoft page in the corpus prints it',
    },
  ],
  google: [
    { form: 'both iss forms', source: { preset: 'google' }, iss: 'https://accounts.google.com', aliases: ['accounts.google.com'], jwks: 'https://www.googleapis.com/oauth2/v3/certs', documented: 'panva/wellknown issuers/google/google.mjs (the discovery document: issuer, jwks_uri); the bare form is Google\'s documented legacy iss' },
  ],
  cognito: [
    { form: 'commercial region', source: { preset: 'cognito', user_pool_id: 'us-west-2_example' }, iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example', jwks: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example/.well-known/jwks.json', documented: 'awsdocs/amazon-cognito-developer-guide doc_source/amazon-cognito-user-pools-using-the-access-token.md (iss format); ...-verifying-a-jwt.md (jwks.json)' },
    { form: 'GovCloud', source: { preset: 'cognito', user_pool_id: 'us-gov-west-1_AbC123' }, iss: 'https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_AbC123', jwks: 'https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_AbC123/.well-known/jwks.json', documented: 'same format; GovCloud keeps amazonaws.com' },
    { form: 'China (Beijing)', source: { preset: 'cognito', user_pool_id: 'cn-north-1_abc123' }, iss: 'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_abc123', jwks: 'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_abc123/.well-known/jwks.json', documented: 'the aws-cn partition DNS suffix amazonaws.com.cn (docs.amazonaws.cn); public CDK/Pulumi providers\' tests print this ProviderURL' },
    { form: 'China (Ningxia)', source: { preset: 'cognito', user_pool_id: 'cn-northwest-1_Xyz789' }, iss: 'https://cognito-idp.cn-northwest-1.amazonaws.com.cn/cn-northwest-1_Xyz789', jwks: 'https://cognito-idp.cn-northwest-1.amazonaws.com.cn/cn-northwest-1_Xyz789/.well-known/jwks.json', documented: 'same partition' },
  ],
  firebase: [
    {
      form: 'project, keys from the securetoken discovery document',
      source: { preset: 'firebase', project_id: 'cicp-oidc' },
      iss: 'https://securetoken.google.com/cicp-oidc',
      jwks: 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com',
      documented: 'https://securetoken.google.com/<project>/.well-known/openid-configuration as printed in salrashid123/kubernetes_oidc_gcp_identity_platform README.md (jwks_uri)',
    },
  ],
  keycloak: [
    { form: 'Keycloak 17+', source: { preset: 'keycloak', base_url: 'https://sso.acme.example', realm: 'acme' }, iss: 'https://sso.acme.example/realms/acme', jwks: 'https://sso.acme.example/realms/acme/protocol/openid-connect/certs', documented: 'Keycloak OIDC endpoints /realms/{realm} and /protocol/openid-connect/certs; rubelw/OSSS documentation/docs/access_tokens.md (iss .../realms/OSSS)' },
    { form: 'before 17 (/auth)', source: { preset: 'keycloak', base_url: 'https://keycloak.example/auth', realm: 'dev' }, iss: 'https://keycloak.example/auth/realms/dev', jwks: 'https://keycloak.example/auth/realms/dev/protocol/openid-connect/certs', documented: 'deskoh/keycloak-playground README.md (decoded tokens: iss .../auth/realms/dev)' },
  ],
  'cloudflare-access': [
    { form: 'team domain', source: { preset: 'cloudflare-access', team: 'yourteam' }, iss: 'https://yourteam.cloudflareaccess.com', jwks: 'https://yourteam.cloudflareaccess.com/cdn-cgi/access/certs', documented: 'cloudflare/cloudflare-docs .../authorization-cookie/application-token.mdx (iss) and validating-json (certs URL)' },
  ],
};

describe.each(Object.entries(FORMS))('issuer forms of preset "%s"', (_preset, forms) => {
  it.each(forms)('$form', ({ source, iss, aliases, jwks }) => {
    const issuer = issuerOf(source);
    expect(issuer.issuer).toBe(iss);
    expect(issuer.issAliases).toEqual(aliases);
    expect(issuer.keySource).toEqual({ kind: 'jwks', url: jwks });
  });
});

describe('forms the providers never write are refused at build time', () => {
  it.each<[string, object, string, RegExp]>([
    ['an Auth0 tenant with its trailing slash', { preset: 'auth0', tenant: 'acme.auth0.com/' }, '/issuers/idp/tenant', /without https:\/\/ or a path/],
    ['an unknown Auth0 profile', { preset: 'auth0', tenant: 'acme.auth0.com', profile: 'RFC9068' }, '/issuers/idp/profile', /one of|does not match/],
    ['an unknown Entra cloud', { preset: 'entra', tenant: ENTRA_TID, cloud: 'germany' }, '/issuers/idp/cloud', /one of|does not match/],
    ['a B2C tenant id that is a domain', { preset: 'azure-ad-b2c', tenant: 'contoso', tenant_id: 'contoso.onmicrosoft.com', user_flow: 'B2C_1_x' }, '/issuers/idp/tenant_id', /lower-case GUID/],
    ['a B2C tenant written with onmicrosoft.com', { preset: 'azure-ad-b2c', tenant: 'contoso.onmicrosoft.com', tenant_id: TID, user_flow: 'B2C_1_x' }, '/issuers/idp/tenant', /tenant name/],
    ['B2C without its user flow', { preset: 'azure-ad-b2c', tenant: 'contoso', tenant_id: TID }, '/issuers/idp', /needs "user_flow"/],
    ['a cloud on a preset that has none', { preset: 'okta', tenant: 'acme.okta.com', cloud: 'usgov' }, '/issuers/idp/cloud', /takes no "cloud"/],
    ['a Keycloak base_url ending with "/"', { preset: 'keycloak', base_url: 'https://sso.example/', realm: 'r' }, '/issuers/idp/base_url', /trailing/],
  ])('%s', (_name, source, path, message) => {
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ issuers: { idp: source } }) }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual(expect.objectContaining({ path, message: expect.stringMatching(message) }));
  });
});
