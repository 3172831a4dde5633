/** How long an issuer's fetched keys are trusted when its policy sets no key_cache (docs/keys.md). */
import { DEFAULT_STALE_IF_ERROR_SECONDS, MAX_JWKS_MAX_AGE_SECONDS, MIN_JWKS_MAX_AGE_SECONDS } from '../config/constants.ts';
import type { CompiledIssuer, KeyCachePolicy } from '../config/types.ts';

export const DEFAULT_KEY_CACHE_POLICY: KeyCachePolicy = {
  minSeconds: MIN_JWKS_MAX_AGE_SECONDS,
  maxSeconds: MAX_JWKS_MAX_AGE_SECONDS,
  staleIfErrorSeconds: DEFAULT_STALE_IF_ERROR_SECONDS,
};

export const keyCachePolicy = (issuer: CompiledIssuer): KeyCachePolicy => issuer.keyCache ?? DEFAULT_KEY_CACHE_POLICY;

/** Until when a stored document (a key set, a discovery document) may still serve while its issuer is down. */
export const staleUntil = (doc: { expiresAt: number }, issuer: CompiledIssuer): number => doc.expiresAt + keyCachePolicy(issuer).staleIfErrorSeconds;
