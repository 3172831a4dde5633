/**
 * Verified tokens, so that a client sending the same token again costs a map read instead of a signature
 * verification. Per isolate, bounded, keyed by the token's exact text: a different spelling of "the same"
 * token (an ECDSA high-S twin, another base64url encoding) is a different key and is verified in full.
 *
 * What is cached is route-independent: the signature verified with `key` from `issuerId`'s key set, and
 * the decoded header and claims. Everything a route or the clock decides (typ, iss, exp/nbf/iat, aud, app,
 * sub, scopes) is checked again by checkClaims on every hit, so a token cached on one route earns nothing
 * on a route it does not satisfy, and an expired token is refused on a hit. An entry is only ever written
 * after a token was fully accepted (signature and every claim check).
 *
 * Invalidation with the key: a hit is used only when the key store, asked again for the token's kid, hands
 * back the very CryptoKey the token was verified with. The store imports a key once per key material, so a
 * refresh that keeps the key keeps the hit; a rotated-out key (kid unknown) or a kid that now names other
 * key material (a new CryptoKey) makes the entry a miss, and the token is verified again in full.
 *
 * Refused signatures (a second, smaller map): a replayed bad token (the same bytes) is refused without a
 * second signature verification. Why that is safe: what is kept is only a `signature_invalid` verdict, for
 * the exact token text, under the issuer, kid, algorithm and the very CryptoKey it was verified with. A
 * verification is a pure function of the key, the signing input and the signature, all fixed by those bytes
 * and that key, so the verdict is final for them. The replay is refused from the map only when the full path
 * would reach that same verification: the route's issuer for the token's iss is the one it was refused
 * under, that issuer still allows its alg, and the key store, asked again for its kid, hands back the very
 * same CryptoKey. After a refresh that changes the key (rotation: kid unknown, or new material under the
 * kid) the entry is dropped and the token is verified in full again. Nothing else is cached as a refusal:
 * kid_unknown, keys_unavailable, shape, issuer and claim refusals carry no key to be final under (an
 * unknown kid must be retried after a refresh), and a token whose signature verified is never in this map.
 */
import { REJECTED_TOKEN_CACHE_MAX_ENTRIES, REJECTED_TOKEN_CACHE_MAX_TOKEN_BYTES, TOKEN_CACHE_MAX_ENTRIES, TOKEN_CACHE_MAX_TOKEN_BYTES } from '../config/constants.ts';
import { finding } from '../findings.ts';
import type { Algorithm, CompiledIssuer } from '../config/types.ts';
import type { KeyLookup } from '../keys/key-store.ts';
import type { JoseHeader } from '../token/shape.ts';
import { issuerFor, noteClaims, resolveKey, tenantsOf, type Authentication, type AuthenticateInput, type Evidence } from './authenticate.ts';
import { BoundedMap } from './bounded-map.ts';
import { checkClaims, type Claims } from './claims.ts';

export interface VerifiedToken {
  header: JoseHeader;
  claims: Claims;
  issuerId: string;
  alg: Algorithm;
  /** The key the signature verified with; a hit needs the key store to still hand out this same object. */
  key: CryptoKey;
  /**
   * The token's log fingerprint (a function of its exact text, like the cache key), filled in by the log
   * writer after the first request (noteFingerprint): later hits need not hash again.
   */
  fingerprint: string | null | undefined;
}

/** A signature refused for these exact bytes under `key`: what the full path chose to reach that verification. */
export interface RejectedToken {
  issuerId: string;
  /** The token's own iss and kid (unverified, but functions of the same bytes): they chose the issuer and the key. */
  iss: string;
  kid: string | undefined;
  alg: Algorithm;
  key: CryptoKey;
  /** As VerifiedToken's: filled in by the log writer after the first refusal. */
  fingerprint: string | null | undefined;
}

export interface TokenCacheLimits {
  maxEntries: number;
  /** The sum of the cached tokens' lengths (tokens are ASCII: one byte per character). */
  maxTokenBytes: number;
}

export const DEFAULT_TOKEN_CACHE_LIMITS: TokenCacheLimits = {
  maxEntries: TOKEN_CACHE_MAX_ENTRIES,
  maxTokenBytes: TOKEN_CACHE_MAX_TOKEN_BYTES,
};

export const DEFAULT_REJECTED_TOKEN_LIMITS: TokenCacheLimits = {
  maxEntries: REJECTED_TOKEN_CACHE_MAX_ENTRIES,
  maxTokenBytes: REJECTED_TOKEN_CACHE_MAX_TOKEN_BYTES,
};

/**
 * The verified tokens and, apart, the refused signatures, each kept in a BoundedMap whose size is the tokens'
 * text (tokens are ASCII: a byte a character). Turning the verified cache off (maxEntries 0) turns both off.
 */
export class TokenCache {
  readonly #entries: BoundedMap<VerifiedToken>;
  readonly #rejected: BoundedMap<RejectedToken>;
  /** Tags of tokens verified once while the cache was full (see admits()); cleared when it reaches its own cap. */
  readonly #seenOnce = new Set<number>();
  readonly #keepsNothing: boolean;

  constructor(limits: TokenCacheLimits = DEFAULT_TOKEN_CACHE_LIMITS, rejectedLimits: TokenCacheLimits = DEFAULT_REJECTED_TOKEN_LIMITS) {
    const size = (token: string) => token.length;
    this.#entries = new BoundedMap({ maxEntries: limits.maxEntries, maxSize: limits.maxTokenBytes }, size);
    const rejected = limits.maxEntries === 0 ? { maxEntries: 0, maxTokenBytes: 0 } : rejectedLimits;
    this.#rejected = new BoundedMap({ maxEntries: rejected.maxEntries, maxSize: rejected.maxTokenBytes }, size);
    this.#keepsNothing = limits.maxEntries === 0;
  }

  getRejected(token: string): RejectedToken | undefined {
    return this.#rejected.get(token);
  }

  /** Only ever called right after the signature of these exact bytes failed to verify with `rejected.key`. */
  rememberRejected(token: string, rejected: RejectedToken): void {
    this.#rejected.set(token, rejected);
  }

  forgetRejected(token: string): void {
    this.#rejected.delete(token);
  }

  get rejectedSize(): number {
    return this.#rejected.entries;
  }

  get(token: string): VerifiedToken | undefined {
    return this.#entries.get(token);
  }

  /**
   * Whether a token just accepted should be kept. While there is room, always. Once keeping it would push
   * another entry out, only on its second acceptance: a stream of tokens each seen once (every request a new
   * token) would otherwise pay on every request for an entry nothing reads (the claims frozen, an insertion,
   * an eviction, the entry kept alive until then: ~14 us per token measured in one isolate, 5-26 across
   * runs) and would push out the tokens that do repeat. The first acceptance leaves only a tag: a number
   * from the token's last characters (its signature's), so a tag costs neither a hash of the whole text nor
   * a reference to it. Tags of two tokens may coincide; then one is kept on its first acceptance, as it would
   * be with room to spare. Only which accepted tokens are kept depends on this, never what a token is judged.
   */
  admits(token: string): boolean {
    if (this.#keepsNothing) return false;
    if (!this.#entries.wouldEvict(token.length)) return true;
    const tag = tailTag(token);
    if (this.#seenOnce.delete(tag)) return true;
    if (this.#seenOnce.size >= SEEN_ONCE_MAX_TAGS) this.#seenOnce.clear();
    this.#seenOnce.add(tag);
    return false;
  }

  set(token: string, verified: VerifiedToken): void {
    this.#entries.set(token, verified);
  }

  /** The log writer hashed this token: keep the result with the entry, if it is (still) cached. */
  noteFingerprint(token: string, fingerprint: string): void {
    const entry = this.#entries.get(token) ?? this.#rejected.get(token);
    if (entry && !entry.fingerprint) entry.fingerprint = fingerprint;
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }

  get size(): number {
    return this.#entries.entries;
  }

  get tokenBytes(): number {
    return this.#entries.size;
  }
}

/** How many once-seen tokens a full cache remembers (a tag, a number, each); past it they are forgotten at once. */
const SEEN_ONCE_MAX_TAGS = 4096;

/** A number from the last 7 characters of the token (7 bits each: exact in a double). */
function tailTag(token: string): number {
  let tag = 0;
  for (let i = Math.max(0, token.length - 7); i < token.length; i++) tag = tag * 128 + (token.charCodeAt(i) & 127);
  return tag;
}

/**
 * Stores a fully accepted token, when the cache admits it (TokenCache.admits). Its claims are frozen: every
 * later request shares them, none may change them.
 */
export function rememberVerified(cache: TokenCache, token: string, verified: VerifiedToken): void {
  if (!cache.admits(token)) return;
  deepFreeze(verified.claims);
  deepFreeze(verified.header);
  cache.set(token, verified);
}

/** What a cache lookup gives: the answer, or null for "go the full way"; synchronous when the key is in memory. */
export type CacheAnswer = Authentication | null | Promise<Authentication | null>;

/**
 * The hit path, for the cache's entry of this token: the answer, or null when the cache cannot answer
 * (another issuer's route, the key rotated) and the token must go the full way. A hit skips the shape gate
 * and the signature, never the claim checks: they run against this route and this clock, every time.
 * Synchronous when the key store answers from memory (every steady-state hit): no promise, no extra tick.
 */
export function authenticateFromCache(cache: TokenCache, token: string, cached: VerifiedToken, input: AuthenticateInput, evidence: Evidence): CacheAnswer {
  const { route, config, keys, now, env } = input;
  // The issuer a full verification would choose on this route (two issuers may accept one iss); any other,
  // or none, and the token goes the full way, which answers with the usual finding.
  const issuer = issuerFor(route, config, cached.claims.iss);
  if (!issuer || issuer.id !== cached.issuerId || !issuer.algorithms.includes(cached.alg)) return null;
  const pending = resolveKey(issuer, cached.header.kid, cached.alg, keys, now, env);
  if (pending instanceof Promise) return pending.then((key) => judgeHit(cache, token, cached, issuer, key, now, input, evidence));
  return judgeHit(cache, token, cached, issuer, pending, now, input, evidence);
}

function judgeHit(cache: TokenCache, token: string, cached: VerifiedToken, issuer: CompiledIssuer, key: KeyLookup, now: number, input: AuthenticateInput, evidence: Evidence): CacheAnswer {
  if (!key.ok || key.key !== cached.key) {
    cache.delete(token);
    return null;
  }
  evidence.kid = cached.header.kid ?? null;
  evidence.alg = cached.alg;
  // The token's own iss, as the full path logs it (an issuer may accept several forms).
  evidence.iss = cached.claims.iss as string; // a string: issuerFor accepted it
  evidence.tokenFingerprint = cached.fingerprint ?? null;
  evidence.keyLayer = key.layer;
  evidence.tokenCache = 'hit';
  noteClaims(evidence, cached.claims, issuer);
  // A multi-tenant issuer's accepted tenants: from memory but on an isolate's first request (then a promise).
  const pendingTenants = tenantsOf(issuer, input.tenants);
  if (pendingTenants instanceof Promise) return pendingTenants.then((allowed) => hitVerdict(cache, token, cached, issuer, now, input, evidence, allowed));
  return hitVerdict(cache, token, cached, issuer, now, input, evidence, pendingTenants);
}

function hitVerdict(cache: TokenCache, token: string, cached: VerifiedToken, issuer: CompiledIssuer, now: number, { route, pathVariables }: AuthenticateInput, evidence: Evidence, allowedTenants: ReadonlySet<string> | undefined): Authentication {
  const findings = checkClaims({ header: cached.header, claims: cached.claims, issuer, route, now, pathVariables, allowedTenants });
  if (findings.length === 0) return { ok: true, claims: cached.claims, issuer, evidence, token };
  // Time only moves forward: an expired token will never be accepted again, so it stops taking room.
  if (findings.some((f) => f.code === 'token_expired')) cache.delete(token);
  return { ok: false, findings, evidence, token };
}

/**
 * A replayed refused signature: `signature_invalid`, with the evidence the full path would log, when the full
 * path would verify these bytes with the very same key again; null (the entry dropped if its key is gone)
 * when it would not, and the token goes the full way.
 */
export function refuseFromCache(cache: TokenCache, token: string, rejected: RejectedToken, { route, config, keys, now, env }: AuthenticateInput, evidence: Evidence): CacheAnswer {
  const issuer = issuerFor(route, config, rejected.iss);
  if (!issuer || issuer.id !== rejected.issuerId || !issuer.algorithms.includes(rejected.alg)) return null;
  const pending = resolveKey(issuer, rejected.kid, rejected.alg, keys, now, env);
  if (pending instanceof Promise) return pending.then((key) => judgeRefusal(cache, token, rejected, key, evidence));
  return judgeRefusal(cache, token, rejected, pending, evidence);
}

function judgeRefusal(cache: TokenCache, token: string, rejected: RejectedToken, key: KeyLookup, evidence: Evidence): Authentication | null {
  if (!key.ok || key.key !== rejected.key) {
    cache.forgetRejected(token);
    return null;
  }
  evidence.kid = rejected.kid ?? null;
  evidence.alg = rejected.alg;
  evidence.iss = rejected.iss;
  evidence.keyLayer = key.layer;
  evidence.tokenFingerprint = rejected.fingerprint ?? null;
  evidence.tokenCache = 'hit';
  return { ok: false, findings: [finding('signature_invalid')], evidence, token };
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
}
