/**
 * What each preset expands to: the exact `iss` (trailing slash as that provider writes it), the JWKS at its
 * published location, the claim that names the app, `typ` where the provider types its tokens, the claims
 * that keep its other tokens out, and the longest lifetime it issues. docs/presets.md says why for each and
 * names the provider's page; test/unit/config/presets-issuer-forms.test.ts holds the forms against them.
 */
import { AUTH0_MAX_ACCESS_TOKEN_LIFETIME_SECONDS, CLOUDFLARE_ACCESS_MAX_SESSION_SECONDS, ENTRA_CAE_MAX_TOKEN_LIFETIME_SECONDS } from './constants.ts';
import type { ClaimPath, ClaimRule, TokenSource } from './types.ts';

export const PRESET_NAMES = [
  'auth0',
  'okta',
  'entra',
  'azure-ad-b2c',
  'entra-external-id',
  'google',
  'cognito',
  'firebase',
  'keycloak',
  'cloudflare-access',
  'rfc9068',
  'app-scoped',
] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The preset parameters a policy may give (each preset takes some of them). */
export interface PresetParams {
  tenant?: string;
  tenant_id?: string;
  profile?: string;
  cloud?: string;
  user_flow?: string;
  domain?: string;
  authorization_server?: string;
  user_pool_id?: string;
  project_id?: string;
  base_url?: string;
  realm?: string;
  team?: string;
  issuer?: string;
  jwks_uri?: string;
}
export type ParamName = keyof PresetParams;

/** What a preset decides; the policy may still set algorithms, app_claim, typ, clock skew, lifetime and add claims. */
export interface PresetExpansion {
  issuer: string;
  jwksUri: string;
  issAliases?: string[];
  appClaim: ClaimPath;
  audienceClaim?: ClaimPath;
  typ?: string;
  claims: ClaimRule[];
  /** The longest token the provider issues by design, when longer than the gateway's 24 h default; max_lifetime_seconds overrides it. */
  maxLifetimeSeconds?: number;
  /** Where the provider puts its tokens, when not (only) in Authorization; the policy's token_sources replace it. */
  tokenSources?: TokenSource[];
  /** A token with sub "" is a service's; its subject is this claim (CompiledIssuer.serviceSubject). */
  serviceSubject?: ClaimPath;
}

export interface PresetSpec {
  /** Parameters the preset takes, each with the check its value must pass; those without a default must be given. */
  params: Partial<Record<ParamName, (value: string) => string | null>>;
  /** Parameters that may be left out, with their default ("" = derived from the others in expand). */
  defaults?: Partial<Record<ParamName, string>>;
  expand(p: Required<PresetParams>): PresetExpansion;
  /** A preset app claim that holds a list, which a route's `app` can never equal, and what to write instead. */
  listAppClaim?: { claim: ClaimPath; message: string };
}

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const exists = (...path: string[]): ClaimRule => ({ path, test: { kind: 'exists' } });
const equals = (name: string, value: string): ClaimRule => ({ path: [name], test: { kind: 'equals', value } });

const host = (what: string) => (value: string) => (HOST.test(value) ? null : `${what}: a lower-case host name such as "acme.example.com", without https:// or a path`);
const matching = (pattern: RegExp, what: string) => (value: string) => (pattern.test(value) ? null : what);
const oneOf = (values: readonly string[]) => (value: string) => (values.includes(value) ? null : `one of ${values.map((v) => `"${v}"`).join(', ')}`);
const httpsUrl = (value: string) => {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' || url.search || url.hash || url.username || value.endsWith('/')) throw new Error();
    return null;
  } catch {
    return 'an https URL without a trailing "/", query or fragment';
  }
};
/** Generic presets take the issuer and its JWKS URL as written; compileIssuer checks the URL like any jwks_uri. */
const given = () => null;
const tenantGuid = matching(GUID, 'the directory (tenant) id, a lower-case GUID');

/** Microsoft's sign-in host per cloud (learn.microsoft.com/entra/identity-platform/authentication-national-cloud). */
export const ENTRA_CLOUD_HOSTS = { public: 'login.microsoftonline.com', usgov: 'login.microsoftonline.us', china: 'login.partner.microsoftonline.cn' } as const;
/** Auth0 API setting "JSON Web Token (JWT) Profile": Auth0 (default) or RFC 9068. */
export const AUTH0_PROFILES = ['auth0', 'rfc9068'] as const;

/** The claims RFC 9068 section 2.2 makes required beyond iss, exp, aud and sub (which every route requires already). */
const RFC9068_CLAIMS = [exists('client_id'), exists('iat'), exists('jti')];

/** One Entra tenant's v2 tokens on a given host: v1 tokens and other tenants fail iss; v2 ID tokens have no azp. */
function entraV2(issuerHost: string, keyHost: string, tenantId: string): PresetExpansion {
  return {
    issuer: `https://${issuerHost}/${tenantId}/v2.0`,
    jwksUri: `https://${keyHost}/${tenantId}/discovery/v2.0/keys`,
    appClaim: ['azp'],
    claims: [equals('ver', '2.0'), equals('tid', tenantId), exists('azp')],
  };
}

export const SPECS: Record<PresetName, PresetSpec> = {
  // Auth0 writes iss with a trailing slash. Default profile: azp names the client; RFC 9068 profile: typ at+jwt and client_id, no azp.
  auth0: {
    params: { tenant: host('the tenant domain ("acme.eu.auth0.com") or custom domain'), profile: oneOf(AUTH0_PROFILES) },
    defaults: { profile: 'auth0' },
    expand: ({ tenant, profile }) => {
      const base = { issuer: `https://${tenant}/`, jwksUri: `https://${tenant}/.well-known/jwks.json`, maxLifetimeSeconds: AUTH0_MAX_ACCESS_TOKEN_LIFETIME_SECONDS };
      return profile === 'rfc9068' ? { ...base, typ: 'at+jwt', appClaim: ['client_id'], claims: RFC9068_CLAIMS } : { ...base, appClaim: ['azp'], claims: [] };
    },
  },
  // Custom authorization servers only: the org server's access tokens are not meant for resource servers. cid names the client; ID tokens have none.
  okta: {
    params: { tenant: host('the Okta domain ("acme.okta.com") or custom domain'), authorization_server: matching(/^[A-Za-z0-9]{1,64}$/, 'an authorization server id such as "default" or "aus1a2b3c"') },
    defaults: { authorization_server: 'default' },
    expand: ({ tenant, authorization_server }) => {
      const issuer = `https://${tenant}/oauth2/${authorization_server}`;
      return { issuer, jwksUri: `${issuer}/v1/keys`, appClaim: ['cid'], claims: [exists('cid')] };
    },
  },
  // One directory's v2 endpoint in the public cloud or a national cloud.
  entra: {
    params: {
      tenant: matching(GUID, 'the directory (tenant) id, a lower-case GUID: "common", "organizations" and domain names have no single iss'),
      cloud: oneOf(Object.keys(ENTRA_CLOUD_HOSTS)),
    },
    defaults: { cloud: 'public' },
    expand: ({ tenant, cloud }) => {
      const cloudHost = ENTRA_CLOUD_HOSTS[cloud as keyof typeof ENTRA_CLOUD_HOSTS];
      return { ...entraV2(cloudHost, cloudHost, tenant), maxLifetimeSeconds: ENTRA_CAE_MAX_TOKEN_LIFETIME_SECONDS };
    },
  },
  // B2C: iss names the tenant id and ends with "/"; keys are published per user flow; tokens say ver "1.0" whatever the endpoint.
  'azure-ad-b2c': {
    params: {
      tenant: matching(LABEL, 'the tenant name, as in <tenant>.onmicrosoft.com'),
      tenant_id: tenantGuid,
      user_flow: matching(/^[A-Za-z0-9_-]{1,128}$/, 'the user flow or custom policy id, e.g. "B2C_1_signupsignin1"'),
      domain: host('the custom domain that serves the tenant ("login.acme.com")'),
    },
    defaults: { domain: '' },
    expand: ({ tenant, tenant_id, user_flow, domain }) => {
      const serving = domain || `${tenant}.b2clogin.com`;
      return { issuer: `https://${serving}/${tenant_id}/v2.0/`, jwksUri: `https://${serving}/${tenant}.onmicrosoft.com/${user_flow}/discovery/v2.0/keys`, appClaim: ['azp'], claims: [] };
    },
  },
  // External ID (CIAM): the discovery document's iss names the tenant id as host; some token endpoints write the tenant's subdomain instead.
  'entra-external-id': {
    params: { tenant: matching(LABEL, 'the tenant subdomain, as in <tenant>.ciamlogin.com'), tenant_id: tenantGuid },
    expand: ({ tenant, tenant_id }) => ({
      ...entraV2(`${tenant_id}.ciamlogin.com`, `${tenant}.ciamlogin.com`, tenant_id),
      issAliases: [`https://${tenant}.ciamlogin.com/${tenant_id}/v2.0`],
    }),
  },
  // Google-signed ID tokens (service-to-service, IAP-less Cloud Run...): Google writes iss in two forms, both accepted.
  google: {
    params: {},
    expand: () => ({ issuer: 'https://accounts.google.com', issAliases: ['accounts.google.com'], jwksUri: 'https://www.googleapis.com/oauth2/v3/certs', appClaim: ['azp'], claims: [] }),
  },
  // Cognito access tokens have no aud: the app client is client_id, and token_use tells access from id tokens. China regions live under amazonaws.com.cn.
  cognito: {
    params: { user_pool_id: matching(/^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/, 'a user pool id such as "eu-west-1_AbC123xyz" (region, "_", id)') },
    expand: ({ user_pool_id }) => {
      const region = user_pool_id.slice(0, user_pool_id.indexOf('_'));
      const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
      const issuer = `https://cognito-idp.${region}.${domain}/${user_pool_id}`;
      return { issuer, jwksUri: `${issuer}/.well-known/jwks.json`, appClaim: ['client_id'], audienceClaim: ['client_id'], claims: [equals('token_use', 'access')] };
    },
  },
  // Firebase ID tokens are the bearer tokens Firebase apps send; aud is the project id. Keys: the securetoken discovery document's jwks_uri.
  firebase: {
    params: { project_id: matching(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Firebase/Google Cloud project id such as "acme-prod"') },
    expand: ({ project_id }) => ({
      issuer: `https://securetoken.google.com/${project_id}`,
      jwksUri: 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com',
      appClaim: ['aud'],
      claims: [equals('aud', project_id), exists('auth_time')],
    }),
  },
  // Keycloak 17+ (no /auth prefix unless base_url has it); the payload's typ claim tells Bearer (access) from ID and Refresh.
  keycloak: {
    params: { base_url: httpsUrl, realm: matching(/^[A-Za-z0-9._-]{1,64}$/, 'a realm name of letters, digits, ".", "_" or "-"') },
    expand: ({ base_url, realm }) => {
      const issuer = `${base_url}/realms/${realm}`;
      return { issuer, jwksUri: `${issuer}/protocol/openid-connect/certs`, appClaim: ['azp'], claims: [equals('typ', 'Bearer')] };
    },
  },
  // The Cf-Access-Jwt-Assertion of one team, users and service tokens alike: the only claim both name the application by is aud (its AUD tag).
  'cloudflare-access': {
    params: { team: matching(LABEL, 'the team name, as in <team>.cloudflareaccess.com') },
    expand: ({ team }) => {
      const issuer = `https://${team}.cloudflareaccess.com`;
      // Access hands its JWT over in Cf-Access-Jwt-Assertion and browsers in the CF_Authorization cookie; service tokens: sub "", common_name = the client id.
      const tokenSources: TokenSource[] = [{ kind: 'header', name: 'cf-access-jwt-assertion' }, { kind: 'cookie', name: 'CF_Authorization' }];
      return { issuer, jwksUri: `${issuer}/cdn-cgi/access/certs`, appClaim: ['aud'], claims: [equals('type', 'app')], maxLifetimeSeconds: CLOUDFLARE_ACCESS_MAX_SESSION_SECONDS, tokenSources, serviceSubject: ['common_name'] };
    },
    listAppClaim: {
      claim: ['aud'],
      message:
        'Cloudflare Access names the application only by its AUD tag in "aud", a list: put the tag in "audiences" instead of "app" (to admit one service token, add a claim rule on "common_name", or give the issuer "app_claim")',
    },
  },
  // RFC 9068: typ at+jwt, client_id names the client, and the claims section 2.2 makes required.
  rfc9068: {
    params: { issuer: given, jwks_uri: given },
    expand: ({ issuer, jwks_uri }) => ({ issuer, jwksUri: jwks_uri, typ: 'at+jwt', appClaim: ['client_id'], claims: RFC9068_CLAIMS }),
  },
  // An issuer that names the app in every token's app_id: a token without one is refused on every route.
  'app-scoped': {
    params: { issuer: given, jwks_uri: given },
    expand: ({ issuer, jwks_uri }) => ({ issuer, jwksUri: jwks_uri, appClaim: ['app_id'], claims: [exists('app_id')] }),
  },
};
