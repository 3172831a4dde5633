/**
 * Finds the verification key for a token: isolate memory first, the issuer's JWKS when memory has no
 * answer. Imported CryptoKeys are kept with their set and reused; nothing is imported per request.
 *
 * Only results are shared between requests, never a pending fetch: workerd forbids awaiting I/O that
 * another request started.
 */
import type { JWK } from 'jose';
import { UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS } from '../config/constants.ts';
import type { Algorithm, CompiledIssuer } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';
import { fetchJwks } from './jwks-fetch.ts';
import { importVerificationKey } from './import-key.ts';
import { keyAllowsAlgorithm } from './validate-jwk.ts';

/** Which layer answered: recorded in the verification log. */
export type KeyLayer = 'inline' | 'memory' | 'network' | 'stale';

export type KeyLookup = { ok: true; key: CryptoKey; layer: KeyLayer } | { ok: false; finding: Finding };

interface KeySet {
  keys: JWK[];
  fetchedAt: number;
  /** Infinity for inline keys. */
  expiresAt: number;
  imported: Map<string, CryptoKey>;
}

export interface KeyStoreOptions {
  allowLoopbackHttp: boolean;
}

export class KeyStore {
  readonly #sets = new Map<string, KeySet>();
  readonly #lastFailedFetch = new Map<string, number>();

  constructor(private readonly options: KeyStoreOptions) {}

  async resolve(issuer: CompiledIssuer, kid: string | undefined, alg: Algorithm, now: number): Promise<KeyLookup> {
    let set = this.#sets.get(issuer.id);
    let layer: KeyLayer = issuer.keySource.kind === 'inline' ? 'inline' : 'memory';
    if (!set && issuer.keySource.kind === 'inline') {
      set = { keys: issuer.keySource.keys, fetchedAt: now, expiresAt: Infinity, imported: new Map() };
      this.#sets.set(issuer.id, set);
    }

    const stale = set !== undefined && now >= set.expiresAt;
    const unknownKid = set !== undefined && !stale && findJwk(set.keys, kid, alg) === undefined;
    const mayRefresh = set === undefined || stale || (unknownKid && now - set.fetchedAt >= UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS);
    if (issuer.keySource.kind === 'jwks' && mayRefresh && !this.#inFailureCooldown(issuer.id, now)) {
      const fetched = await fetchJwks(issuer.keySource.url, this.options.allowLoopbackHttp);
      if (fetched.ok) {
        set = { keys: fetched.keys, fetchedAt: now, expiresAt: now + fetched.maxAgeSeconds, imported: new Map() };
        this.#sets.set(issuer.id, set);
        layer = 'network';
      } else {
        this.#lastFailedFetch.set(issuer.id, now);
        console.warn(JSON.stringify({ event: 'jwks_fetch_failed', issuer: issuer.id, reason: fetched.reason }));
      }
    }
    if (!set) return { ok: false, finding: finding('keys_unavailable', { detail: 'no key set could be fetched' }) };
    if (layer !== 'network' && now >= set.expiresAt) layer = 'stale';

    const jwk = findJwk(set.keys, kid, alg);
    if (!jwk) return { ok: false, finding: finding('kid_unknown', { actual: kid ?? null }) };
    const cacheKey = `${set.keys.indexOf(jwk)}:${alg}`;
    let key = set.imported.get(cacheKey);
    if (!key) {
      try {
        key = await importVerificationKey(jwk, alg);
      } catch {
        return { ok: false, finding: finding('kid_unknown', { actual: kid ?? null, detail: 'key could not be imported' }) };
      }
      set.imported.set(cacheKey, key);
    }
    return { ok: true, key, layer };
  }

  #inFailureCooldown(issuerId: string, now: number): boolean {
    const failedAt = this.#lastFailedFetch.get(issuerId);
    return failedAt !== undefined && now - failedAt < UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS;
  }
}

/** By kid when the token names one; without a kid, only when exactly one key of the set fits the algorithm. */
function findJwk(keys: readonly JWK[], kid: string | undefined, alg: Algorithm): JWK | undefined {
  if (kid !== undefined) {
    const jwk = keys.find((k) => k.kid === kid);
    return jwk && keyAllowsAlgorithm(jwk, alg) ? jwk : undefined;
  }
  const candidates = keys.filter((k) => keyAllowsAlgorithm(k, alg));
  return candidates.length === 1 ? candidates[0] : undefined;
}
