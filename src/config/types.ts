/**
 * The compiled configuration: what `scripts/compile-policies.ts` writes at build time and the Worker loads.
 * Everything a policy decides is decided here, once; nothing is re-derived per request.
 */
import type { JWK } from 'jose';

export const COMPILED_CONFIG_VERSION = 1;

export type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA';

/** A path into the claims: each element is one literal member name, so dots and URLs in names are safe. */
export type ClaimPath = readonly string[];

export type KeySource = { kind: 'jwks'; url: string } | { kind: 'inline'; keys: JWK[] };

export interface CompiledIssuer {
  id: string;
  issuer: string;
  keySource: KeySource;
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
  /** The origin as written, for display and logs; forwarding reads `forward.origin`. */
  origin: string;
  forwardAuthorization: boolean;
  forward: RouteForwarding;
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
  origin: OriginTarget;
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
}

export interface CompiledSettings {
  realm: string;
  identityHeaderPrefix: string;
  /** Null when the gateway signs no assertion. */
  assertion: CompiledAssertion | null;
  /** An incoming header whose value becomes the request id (else cf-ray); null to ignore client ids. */
  requestIdHeader: string | null;
}

export interface CompiledConfig {
  version: typeof COMPILED_CONFIG_VERSION;
  settings: CompiledSettings;
  issuers: Record<string, CompiledIssuer>;
  routes: CompiledRoute[];
}
