/**
 * Presets for issuers people use: an operator writes `{ "preset": "auth0", "tenant": "acme.eu.auth0.com" }`
 * and the compiler expands it, at build time, into the full issuer that identity provider's access tokens
 * need: the exact `iss` (trailing slash as that provider writes it), the JWKS at its published location,
 * the algorithm, the claim that names the app, `typ` where the provider types its tokens, and the claims
 * that keep its other tokens (ID tokens, refresh tokens, another tenant's) out. docs/presets.md says why
 * for each. Pure; every parameter is checked so that a typo fails the build, not every request.
 */
import type { ClaimPath, ClaimRule, TokenSource } from './types.ts';

export const PRESET_NAMES = ['auth0', 'okta', 'entra', 'google', 'cognito', 'firebase', 'keycloak', 'cloudflare-access', 'rfc9068', 'app-scoped'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The preset parameters a policy may give (each preset takes some of them). */
export interface PresetParams {
  tenant?: string;
  authorization_server?: string;
  user_pool_id?: string;
  project_id?: string;
  base_url?: string;
  realm?: string;
  team?: string;
  issuer?: string;
  jwks_uri?: string;
}
type ParamName = keyof PresetParams;

/** What a preset decides; the policy may still set algorithms, app_claim, typ, clock skew, lifetime and add claims. */
export interface PresetExpansion {
  issuer: string;
  jwksUri: string;
  issAliases?: string[];
  appClaim: ClaimPath;
  audienceClaim?: ClaimPath;
  typ?: string;
  claims: ClaimRule[];
  /** Where the provider puts its tokens, when not (only) in Authorization; the policy's token_sources replace it. */
  tokenSources?: TokenSource[];
  /** A token with sub "" is a service's; its subject is this claim (CompiledIssuer.serviceSubject). */
  serviceSubject?: ClaimPath;
}

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const exists = (...path: string[]): ClaimRule => ({ path, test: { kind: 'exists' } });
const equals = (name: string, value: string): ClaimRule => ({ path: [name], test: { kind: 'equals', value } });

interface PresetSpec {
  /** Parameters that must be given, each with the check its value must pass. */
  params: Partial<Record<ParamName, (value: string) => string | null>>;
  /** Parameters that may be left out, with their default. */
  defaults?: Partial<Record<ParamName, string>>;
  expand(p: Required<PresetParams>): PresetExpansion;
}

const host = (what: string) => (value: string) => (HOST.test(value) ? null : `${what}: a lower-case host name such as "acme.example.com", without https:// or a path`);
const matching = (pattern: RegExp, what: string) => (value: string) => (pattern.test(value) ? null : what);
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

const SPECS: Record<PresetName, PresetSpec> = {
  // Auth0 writes iss with a trailing slash; access tokens for an API carry azp (the client). ID tokens have aud = client id.
  auth0: {
    params: { tenant: host('the tenant domain ("acme.eu.auth0.com") or custom domain') },
    expand: ({ tenant }) => ({ issuer: `https://${tenant}/`, jwksUri: `https://${tenant}/.well-known/jwks.json`, appClaim: ['azp'], claims: [] }),
  },
  // Custom authorization servers only: the org server's access tokens are not meant for resource servers. cid names the client; ID tokens have none.
  okta: {
    params: { tenant: host('the Okta domain ("acme.okta.com")'), authorization_server: matching(/^[A-Za-z0-9]{1,64}$/, 'an authorization server id such as "default" or "aus1a2b3c"') },
    defaults: { authorization_server: 'default' },
    expand: ({ tenant, authorization_server }) => {
      const issuer = `https://${tenant}/oauth2/${authorization_server}`;
      return { issuer, jwksUri: `${issuer}/v1/keys`, appClaim: ['cid'], claims: [exists('cid')] };
    },
  },
  // v2 endpoint of one tenant: v1 tokens (iss https://sts.windows.net/...) and other tenants fail iss; v2 ID tokens have no azp.
  entra: {
    params: {
      tenant: matching(GUID, 'the directory (tenant) id, a lower-case GUID: "common", "organizations" and domain names have no single iss'),
    },
    expand: ({ tenant }) => ({
      issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
      jwksUri: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
      appClaim: ['azp'],
      claims: [equals('ver', '2.0'), equals('tid', tenant), exists('azp')],
    }),
  },
  // Google-signed ID tokens (service-to-service, IAP-less Cloud Run...): Google writes iss in two forms, both accepted.
  google: {
    params: {},
    expand: () => ({
      issuer: 'https://accounts.google.com',
      issAliases: ['accounts.google.com'],
      jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
      appClaim: ['azp'],
      claims: [],
    }),
  },
  // Cognito access tokens have no aud: the app client is client_id, and token_use tells access from id tokens.
  cognito: {
    params: { user_pool_id: matching(/^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/, 'a user pool id such as "eu-west-1_AbC123xyz" (region, "_", id)') },
    expand: ({ user_pool_id }) => {
      const region = user_pool_id.slice(0, user_pool_id.indexOf('_'));
      const issuer = `https://cognito-idp.${region}.amazonaws.com/${user_pool_id}`;
      return { issuer, jwksUri: `${issuer}/.well-known/jwks.json`, appClaim: ['client_id'], audienceClaim: ['client_id'], claims: [equals('token_use', 'access')] };
    },
  },
  // Firebase ID tokens are the bearer tokens Firebase apps send; aud is the project id.
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
  // The Cf-Access-Jwt-Assertion of one team; aud holds the Access application's AUD tag, type "app" (not the org token).
  'cloudflare-access': {
    params: { team: matching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'the team name, as in <team>.cloudflareaccess.com') },
    expand: ({ team }) => {
      const issuer = `https://${team}.cloudflareaccess.com`;
      // Access hands its JWT over in Cf-Access-Jwt-Assertion and browsers in the CF_Authorization cookie; service tokens: sub "", common_name = the client id.
      const tokenSources: TokenSource[] = [{ kind: 'header', name: 'cf-access-jwt-assertion' }, { kind: 'cookie', name: 'CF_Authorization' }];
      return { issuer, jwksUri: `${issuer}/cdn-cgi/access/certs`, appClaim: ['common_name'], claims: [equals('type', 'app')], tokenSources, serviceSubject: ['common_name'] };
    },
  },
  // RFC 9068: typ at+jwt, client_id names the client, and the claims section 2.2 makes required.
  rfc9068: {
    params: { issuer: given, jwks_uri: given },
    expand: ({ issuer, jwks_uri }) => ({ issuer, jwksUri: jwks_uri, typ: 'at+jwt', appClaim: ['client_id'], claims: [exists('client_id'), exists('iat'), exists('jti')] }),
  },
  // An issuer that names the app in every token's app_id: a token without one is refused on every route.
  'app-scoped': {
    params: { issuer: given, jwks_uri: given },
    expand: ({ issuer, jwks_uri }) => ({ issuer, jwksUri: jwks_uri, appClaim: ['app_id'], claims: [exists('app_id')] }),
  },
};

export const PRESET_PARAM_NAMES: readonly ParamName[] = ['tenant', 'authorization_server', 'user_pool_id', 'project_id', 'base_url', 'realm', 'team', 'issuer', 'jwks_uri'];

/** An issuer as a policy writes it, as far as presets care. */
export interface PresetSource extends PresetParams {
  preset?: PresetName;
  keys?: unknown;
  secret_binding?: string;
  audience_claim?: unknown;
}

export type PresetResult = { ok: true; expansion: PresetExpansion } | { ok: false; errors: { field: ParamName | null; message: string }[] };

/** Expands a preset, or says which parameter is missing, unknown to this preset, or malformed. */
export function expandPreset(name: PresetName, given: PresetParams): PresetResult {
  const spec = SPECS[name];
  const errors: { field: ParamName | null; message: string }[] = [];
  const values: Partial<Record<ParamName, string>> = { ...spec.defaults };
  for (const param of PRESET_PARAM_NAMES) {
    const value = given[param];
    const check = spec.params[param];
    const known = check !== undefined || spec.defaults?.[param] !== undefined;
    if (value !== undefined && !known) errors.push({ field: param, message: `preset "${name}" takes no "${param}" (it takes: ${takes(spec)})` });
    else if (value !== undefined) {
      const problem = check?.(value) ?? null;
      if (problem) errors.push({ field: param, message: problem });
      else values[param] = value;
    } else if (check !== undefined && values[param] === undefined) errors.push({ field: null, message: `preset "${name}" needs "${param}"` });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, expansion: spec.expand(values as Required<PresetParams>) };
}

const takes = (spec: PresetSpec) => [...new Set([...Object.keys(spec.params), ...Object.keys(spec.defaults ?? {})])].join(', ') || 'no parameters';

/** The preset's expansion (undefined without a preset), or null after reporting why it cannot be expanded. */
export function expandIssuerPreset(source: PresetSource, report: (field: string | null, message: string) => void): PresetExpansion | null | undefined {
  if (source.preset === undefined) return undefined;
  const generic = source.preset === 'rfc9068' || source.preset === 'app-scoped';
  const decided: (keyof PresetSource)[] = ['keys', 'secret_binding', 'audience_claim', ...(generic ? [] : (['issuer', 'jwks_uri'] as const))];
  for (const field of decided) {
    if (source[field] !== undefined) report(field, `preset "${source.preset}" decides "${field}"; remove it, or write the issuer out without a preset`);
  }
  const result = expandPreset(source.preset, source);
  if (!result.ok) for (const e of result.errors) report(e.field, e.message);
  return result.ok ? result.expansion : null;
}
