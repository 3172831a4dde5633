/**
 * The compiled configuration: what `scripts/compile-policies.ts` writes at build time and the Worker loads.
 * Everything a policy decides is decided here, once; nothing is re-derived per request.
 */
import type { JWK } from 'jose';
import type { PathAmbiguity } from '../request/canonical-path.ts';

export const COMPILED_CONFIG_VERSION = 1;

export type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA' | HmacAlgorithm;
/** Only for an issuer whose key is a Worker secret (`secret_binding`); never with a JWKS, inline keys or a preset. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** A path into the claims: each element is one literal member name, so dots and URLs in names are safe. */
export type ClaimPath = readonly string[];

export type KeySource =
  | { kind: 'jwks'; url: string }
  | { kind: 'inline'; keys: JWK[] }
  | { kind: 'secret'; binding: string }
  /** OIDC discovery: `url` is the issuer's openid-configuration document, whose jwks_uri names the key set. */
  | { kind: 'discovery'; url: string };

/** How long fetched key sets (and discovery documents) are trusted; see docs/keys.md. */
export interface KeyCachePolicy {
  /** Clamp for the issuer's Cache-Control max-age. */
  minSeconds: number;
  maxSeconds: number;
  /** How long past expiry the last good set keeps verifying while the issuer cannot be reached. */
  staleIfErrorSeconds: number;
}

/** A JSON scalar a claim rule compares with (strict equality, no coercion). */
export type ClaimScalar = string | number | boolean;

/** One claim requirement: the claim must exist and, unless `exists`, pass the test. */
export type ClaimTest =
  | { kind: 'exists' }
  | { kind: 'equals'; value: ClaimScalar }
  | { kind: 'one_of'; values: ClaimScalar[] }
  | { kind: 'contains'; value: ClaimScalar }
  /**
   * The claim equals a route path variable's value in this request (`org_id == {tenant}`). `segment` is the
   * variable's index among the path's segments, so two routes compare equal only when they bind the same place.
   */
  | { kind: 'equals_path_variable'; variable: string; segment: number };

export interface ClaimRule {
  path: ClaimPath;
  test: ClaimTest;
  /** 403: the token is valid but not allowed here (a role it lacks). Absent: 401, the token is not for this route. */
  forbidden?: true;
}

export interface CompiledIssuer {
  id: string;
  issuer: string;
  keySource: KeySource;
  /** Absent unless the policy sets key_cache: the key store's defaults (src/config/constants.ts) apply. */
  keyCache?: KeyCachePolicy;
  algorithms: Algorithm[];
  appClaim: ClaimPath;
  clockSkewSeconds: number;
  maxLifetimeSeconds: number;
  /** Normalized (lower case, no "application/" prefix), or null when the issuer does not type its tokens. */
  typ: string | null;
  /** Other exact `iss` values this issuer signs with (Google's "accounts.google.com"); absent = none. */
  issAliases?: string[];
  /** The claim the route's `audiences` are compared with; absent = ["aud"] (Cognito access tokens: client_id). */
  audienceClaim?: ClaimPath;
  /** Claims every token of this issuer must satisfy on every route (Cognito token_use = access...). */
  claims?: ClaimRule[];
  /** The preset this issuer was expanded from, for the log and the docs. */
  preset?: string;
  /** Where this issuer's tokens come from, for routes that list none of their own. Absent = the Authorization bearer. */
  tokenSources?: TokenSource[];
  /** A token whose sub is "" is a service's (Cloudflare Access service tokens): its subject is this claim. Absent = sub must be non-empty. */
  serviceSubject?: ClaimPath;
  /** A multi-tenant issuer: which claim names the tenant and which tenants are accepted. Absent = single tenant. */
  tenancy?: Tenancy;
}

/**
 * Tenants of one multi-tenant issuer (Entra "common"/"organizations", Auth0 Organizations). The token's
 * tenant claim must be in `tenants` or in the KV list; with `issTemplate`, `iss` carries the tenant too and
 * must carry the same one.
 */
export interface Tenancy {
  claim: ClaimPath;
  /** `issuer` was "<prefix>{tenant}<suffix>": iss is accepted when its middle is one segment equal to the claim. */
  issTemplate?: { prefix: string; suffix: string };
  /** Accepted tenants written in the policy. */
  tenants: string[];
  /** Key in the GATEWAY_TENANTS KV namespace of a document `{ "tenants": [...] }` of further accepted tenants. */
  kvKey?: string;
}

/** Where a token may come from (docs/configuration.md, token_sources); read by src/token/sources.ts. */
export type TokenSource =
  | { kind: 'authorization' }
  /** `name` in lower case; with `scheme`, the value is "<scheme> <token>" (scheme compared case-insensitively). */
  | { kind: 'header'; name: string; scheme?: string }
  /** Cookie names are case-sensitive (RFC 6265 5.4): `name` matches exactly. */
  | { kind: 'cookie'; name: string }
  /** The Kubernetes form: one Sec-WebSocket-Protocol entry "base64url.bearer.authorization.k8s.io.<base64url(token)>". */
  | { kind: 'websocket_protocol' }
  /** Opt-in and unsafe (URLs are logged, cached and sent as Referer): `name` in lower case. */
  | { kind: 'query'; name: string };

/** See src/route/mode.ts for what each mode does with a request. */
export type RouteMode = 'enforce' | 'report-only' | 'optional' | 'public';

export interface PathPattern {
  kind: 'exact' | 'prefix';
  /** For prefix patterns, the path without the trailing "/*" ("" for "/*"). Variables stay as written ("/tenants/{tenant}"). */
  value: string;
  /** Whole-segment variables (`{tenant}`), by name and segment index ("/tenants/{tenant}" -> tenant at 2). Absent = none. */
  variables?: PathVariable[];
}

export interface PathVariable {
  name: string;
  /** Index in `path.split('/')` (0 is the empty string before the first "/"). */
  segment: number;
}

export interface CompiledRoute {
  id: string;
  file: string;
  host: string | null;
  path: PathPattern;
  methods: string[] | null;
  mode: RouteMode;
  issuers: string[];
  audiences: string[];
  app: string | null;
  scopes: string[];
  /** Scopes of which the token must carry at least one (beside all of `scopes`). Absent = no such requirement. */
  scopesAny?: string[];
  /** The origin as written, for display and logs; forwarding reads `forward.origin`. */
  origin: string;
  forwardAuthorization: boolean;
  forward: RouteForwarding;
  /** Claims the token must satisfy on this route, after the issuer's own. Absent = none. */
  claims?: ClaimRule[];
  /** CORS preflights (OPTIONS + Origin + Access-Control-Request-Method) are forwarded without a token. Absent = false. */
  corsPreflight?: boolean;
  /** Path spellings stacks read differently that this route's origin needs (src/request/canonical-path.ts). Absent = none. */
  allowInPath?: PathAmbiguity[];
  /** The route's token_sources, or its issuers' together, in order. Absent = the Authorization bearer alone (the hot path as it always was). */
  tokenSources?: TokenSource[];
  /** tokenSources are the issuers' lists together: each issuer's tokens are taken only from its own sources. Absent = false. */
  tokenSourcesFromIssuers?: true;
  /** Origins a cookie-authenticated unsafe request may come from besides the same site (src/token/csrf.ts). Absent = none. */
  csrfOrigins?: string[];
  /** CORS on the gateway's own answers, and preflights it answers (src/route/cors.ts). Absent = none. */
  cors?: CompiledCors;
  /** A budget per verified identity (src/route/rate-limit.ts). Absent = none. */
  rateLimit?: CompiledRateLimit;
}

export interface CompiledRateLimit {
  /** The Workers Rate Limiting binding (wrangler.toml [[ratelimits]]) whose limit and period apply. */
  binding: string;
  /** Verified claims whose values, with the route id, name the budget. */
  key: ClaimPath[];
  /** report-only: an identity over its budget is logged (rate_limited), not refused. */
  mode: 'enforce' | 'report-only';
  /** The Retry-After of a 429: the binding's period. */
  retryAfterSeconds: number;
}

export interface CompiledCors {
  /** Exact origins ("https://app.example"), or "*" without credentials. */
  allowOrigins: string[];
  allowCredentials: boolean;
  /** Lower-case response header names the browser may read; www-authenticate is always among them. */
  exposeHeaders: string[];
  /** The gateway answers preflights itself (instead of denying them, or forwarding them with cors_preflight). */
  answerPreflight: boolean;
  allowMethods: string[];
  /** Lower-case request header names a preflight may ask for. */
  allowHeaders: string[];
  maxAgeSeconds: number;
}

/** Where a route's requests go. The request never chooses: only the policy does. */
export type OriginTarget =
  | { kind: 'url'; url: string; stripPathPrefix: string | null }
  /** A Worker on a zone route passing through to the zone's origin: fetch the incoming URL. */
  | { kind: 'same-url' }
  /** A service binding, by its name in env. */
  | { kind: 'service'; binding: string; stripPathPrefix: string | null };

export interface ClaimHeader {
  /** The full header name, prefix included. */
  header: string;
  claim: ClaimPath;
  /** How an array (or object) becomes a header value. */
  format: 'join' | 'json';
}

export interface RouteForwarding {
  /** With originByClaim: its first target (for display); requests go to the one the claim picks. */
  origin: OriginTarget;
  /** The origin picked by a verified claim through a fixed map (src/route/origin-choice.ts). Absent = `origin`. */
  originByClaim?: { claim: ClaimPath; targets: Record<string, OriginTarget> };
  timeoutMs: number;
  claimHeaders: ClaimHeader[];
  /** `aud` of the signed assertion. */
  assertionAudience: string;
}

export interface CompiledAssertion {
  header: string;
  issuer: string;
  /** signed: EdDSA or ES256 with GATEWAY_SIGNING_KEY; hmac: HS256 with GATEWAY_ASSERTION_SECRET. */
  mode: 'signed' | 'hmac';
  jwksPath: string;
  ttlSeconds: number;
  /** How long an assertion is reused for identical requests of one token; 0: one per request. At most ttlSeconds / 2. */
  reuseSeconds: number;
}

/** How the verification log shows `sub` (docs/logging.md). */
export type LogSubjectMode = 'plain' | 'hashed' | 'omitted';

export interface CompiledSettings {
  realm: string;
  identityHeaderPrefix: string;
  /** Null when the gateway signs no assertion. */
  assertion: CompiledAssertion | null;
  /** An incoming header whose value becomes the request id (else cf-ray); null to ignore client ids. */
  requestIdHeader: string | null;
  /** Absent means "plain". */
  logSubject?: LogSubjectMode;
  /** The fraction of allowed requests whose record is written (src/log/write.ts); absent means 1, every one. */
  logAllowed?: number;
  /** Client headers removed before forwarding beside the default list (src/forward/sanitize.ts): names, or prefixes ending in "*". */
  stripHeaders?: string[];
}

export interface CompiledConfig {
  version: typeof COMPILED_CONFIG_VERSION;
  settings: CompiledSettings;
  issuers: Record<string, CompiledIssuer>;
  routes: CompiledRoute[];
}
