/**
 * Assertions kept for reuse: a client sending the same token to the same place again gets the assertion
 * minted for its earlier request, as long as that is younger than reuse_seconds, instead of a new JWS per
 * request (a signature, a SHA-256 and the JSON around them: the largest share of a cached token's cost).
 *
 * Keyed by everything the assertion and the headers it covers are made of: the route (its claim headers,
 * audience), the request the origin receives (method, Host, path, query) and the token's exact text (its
 * claims, its exp: a kept assertion expires no later than the token, as a fresh one would), the text by the
 * number of its token-cache entry (tokenNumber).
 * The request id is the one part that differs per request: the assertion does not cover it (docs/origin.md).
 * Only a token verified before in this isolate (a verified-token cache hit) gets its assertion kept
 * (src/gateway.ts): an entry and its eviction cost every distinct token 4-25 us for nothing (measured when the
 * key still held the token's text, ~1 KiB).
 * A hit is only ever looked up after this request's own token passed every check on this route, so a
 * token refused since (expired, its key rotated out) never reaches its kept assertion.
 */
import { ASSERTION_CACHE_MAX_BYTES, ASSERTION_CACHE_MAX_ENTRIES } from '../config/constants.ts';
import type { ForwardedRequest } from '../origin/binding.ts';
import { BoundedMap, type BoundedMapLimits } from '../verify/bounded-map.ts';
import type { AssertionSigner } from './signing-keys.ts';

export interface ReusableIdentity {
  /** Every identity header but the request id, the assertion last. Shared by every request that reuses it: never changed. */
  headers: readonly (readonly [string, string])[];
  omitted: readonly string[];
  /** The key that signed it: a changed signing secret makes the entry useless. */
  signer: AssertionSigner;
  /** The assertion's iat. */
  mintedAt: number;
  /** What the entry's text adds up to, for the cap. */
  bytes: number;
}

export type AssertionCache = BoundedMap<ReusableIdentity>;

export const DEFAULT_ASSERTION_CACHE_LIMITS: BoundedMapLimits = { maxEntries: ASSERTION_CACHE_MAX_ENTRIES, maxSize: ASSERTION_CACHE_MAX_BYTES };

export const newAssertionCache = (limits: BoundedMapLimits = DEFAULT_ASSERTION_CACHE_LIMITS): AssertionCache =>
  new BoundedMap<ReusableIdentity>(limits, (key, entry) => key.length + entry.bytes);

const tokenNumbers = new WeakMap<object, number>();
let tokenCount = 0;

/**
 * A number for one exact token text, by the claims object of its token-cache entry: the cache parses and
 * freezes one per entry, and an entry is found by the exact text, so the object stands for the text without
 * copying and hashing its ~1 KiB again on every request. Never reused in an isolate: a token verified anew
 * (a new entry, new claims) starts with no kept assertion.
 */
export function tokenNumber(claims: object): number {
  let number = tokenNumbers.get(claims);
  if (number === undefined) tokenNumbers.set(claims, (number = ++tokenCount));
  return number;
}

/** The query is part of the key as text: an assertion binds its digest, so another query needs its own. */
export const reuseKey = (routeId: string, target: ForwardedRequest, token: number): string =>
  `${token}\n${routeId}\n${target.method}\n${target.host}\n${target.path}\n${target.query}`;

/** Text held by headers, by name and value. */
export function textBytes(headers: readonly (readonly [string, string])[], omitted: readonly string[]): number {
  let bytes = 0;
  for (const [name, value] of headers) bytes += name.length + value.length;
  for (const name of omitted) bytes += name.length;
  return bytes;
}
