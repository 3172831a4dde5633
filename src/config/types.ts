/**
 * The compiled configuration: what `scripts/compile-policies.ts` writes at build time and the Worker loads.
 * Everything a policy decides is decided here, once; nothing is re-derived per request.
 */
import type { JWK } from 'jose';

export const COMPILED_CONFIG_VERSION = 1;

export type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA';

/** A path into the claims: each element is one literal member name, so dots and URLs in names are safe. */
export type ClaimPath = readonly string[];

export type KeySource =
  | { kind: 'jwks'; url: string }
  | { kind: 'inline'; keys: JWK[] }
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
}

export type RouteMode = 'enforce' | 'public';

export interface PathPattern {
  kind: 'exact' | 'prefix';
  /** For prefix patterns, the path without the trailing "/*" ("" for "/*"). */
  value: string;
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
  origin: string;
  forwardAuthorization: boolean;
}

export interface CompiledSettings {
  realm: string;
  identityHeaderPrefix: string;
}

export interface CompiledConfig {
  version: typeof COMPILED_CONFIG_VERSION;
  settings: CompiledSettings;
  issuers: Record<string, CompiledIssuer>;
  routes: CompiledRoute[];
}
