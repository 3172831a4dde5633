/**
 * Where an issuer's verification keys come from (a Worker secret, a JWKS URL, OIDC discovery or inline JWKs)
 * and how long fetched ones are cached; src/keys/ loads them when the Worker runs.
 */
import type { JWK } from 'jose';
import { checkUrl } from './check-url.ts';
import type { Report } from './policy-errors.ts';
import type { Algorithm, CompiledIssuer, KeyCachePolicy } from './types.ts';
import { isAllowedKeyUrl } from '../keys/jwks-fetch.ts';
import { DEFAULT_KEY_CACHE_POLICY } from '../keys/key-cache-policy.ts';
import { judgeJwk } from '../keys/validate-jwk.ts';

type KeyCacheSource = { min_seconds?: number; max_seconds?: number; stale_if_error_seconds?: number };

/** The fields of an issuer's policy that say where its keys come from. */
export interface IssuerKeysSource {
  issuer?: string;
  secret_binding?: string;
  jwks_uri?: string;
  keys?: Record<string, unknown>[];
  discovery?: true;
  key_cache?: KeyCacheSource;
  algorithms?: Algorithm[];
}

type KeySource = CompiledIssuer['keySource'];

/** OIDC Discovery 1.0 section 4: the configuration document lives here below the issuer (its trailing "/" removed). */
const OIDC_CONFIGURATION_PATH = '/.well-known/openid-configuration';

/** A URL keys are fetched from: https, or http to loopback (which the runtime still refuses outside local development). */
function keyUrl(value: string, what: string, report: (message: string) => void): string | null {
  const problem = checkUrl(value, what);
  if (problem) {
    report(problem);
    return null;
  }
  const url = new URL(value);
  // The runtime's rule with loopback allowed: whether a deployment allows it is decided when the Worker runs.
  if (!isAllowedKeyUrl(url, true)) {
    report('must be https (plain http is allowed for loopback in local development only)');
    return null;
  }
  return url.href;
}

/** Exactly one source of keys, and HMAC algorithms with a secret only; null when it is not so. */
export function compileKeySource(source: IssuerKeysSource, report: Report): KeySource | null {
  const hmac = (source.algorithms ?? []).filter((a) => a.startsWith('HS'));
  const sourceCount = [source.jwks_uri, source.keys, source.discovery].filter((v) => v !== undefined).length;
  if (source.secret_binding !== undefined) {
    if (sourceCount > 0) report(['secret_binding'], 'an HMAC secret is the only key of its issuer: no "jwks_uri", "keys", "discovery" or "preset" with it');
    if (hmac.length === 0 || hmac.length !== source.algorithms!.length) report(['algorithms'], 'an issuer with "secret_binding" needs "algorithms" of HS256, HS384 or HS512 only');
    return { kind: 'secret', binding: source.secret_binding };
  }
  if (hmac.length > 0) {
    report(['algorithms', source.algorithms!.indexOf(hmac[0]!)], `${hmac[0]} needs the secret from a Worker secret ("secret_binding"); it is never used with public keys (RFC 8725 section 2.1)`);
    return null;
  }
  if (sourceCount !== 1) {
    report([], source.discovery ? 'give exactly one of "jwks_uri", "keys" and "discovery"' : 'give exactly one of "jwks_uri" and "keys"');
    return null;
  }
  if (source.discovery) {
    const url = source.issuer === undefined ? null : keyUrl(source.issuer.replace(/\/$/, '') + OIDC_CONFIGURATION_PATH, 'issuer', (message) => report(['issuer'], message));
    return url ? { kind: 'discovery', url } : null;
  }
  if (source.jwks_uri !== undefined) {
    const url = keyUrl(source.jwks_uri, 'jwks_uri', (message) => report(['jwks_uri'], message));
    return url ? { kind: 'jwks', url } : null;
  }
  source.keys!.forEach((key, index) => {
    const verdict = judgeJwk(key);
    if (verdict.kind !== 'accepted') report(['keys', index], verdict.reason);
  });
  return { kind: 'inline', keys: source.keys as JWK[] };
}

/** `key_cache`, with the defaults for what it leaves out; refused where nothing is fetched, so nothing cached. */
export function compileKeyCache(source: KeyCacheSource, keySource: KeySource | null, report: Report): KeyCachePolicy {
  const keyCache = {
    minSeconds: source.min_seconds ?? DEFAULT_KEY_CACHE_POLICY.minSeconds,
    maxSeconds: source.max_seconds ?? DEFAULT_KEY_CACHE_POLICY.maxSeconds,
    staleIfErrorSeconds: source.stale_if_error_seconds ?? DEFAULT_KEY_CACHE_POLICY.staleIfErrorSeconds,
  };
  if (keyCache.minSeconds > keyCache.maxSeconds) report(['key_cache'], 'min_seconds is larger than max_seconds');
  // A setting that would do nothing is refused, not ignored: only fetched key sets are cached.
  if (keySource?.kind === 'inline' || keySource?.kind === 'secret') {
    report(['key_cache'], `"key_cache" applies to keys fetched from "jwks_uri" or "discovery"; this issuer's keys are ${keySource.kind === 'inline' ? 'inline ("keys")' : 'a Worker secret'}`);
  }
  return keyCache;
}
