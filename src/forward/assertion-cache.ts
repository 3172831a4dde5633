/**
 * Assertions kept for reuse: a client sending the same token to the same place again gets the assertion
 * minted for its earlier request, as long as that is younger than reuse_seconds, instead of a new JWS per
 * request (a signature, a SHA-256 and the JSON around them: the largest share of a cached token's cost).
 *
 * Keyed by everything the assertion and the headers it covers are made of: the route (its claim headers,
 * audience), the request the origin receives (method, Host, path, query) and the token's exact text (its
 * claims, its exp: a kept assertion expires no later than the token, as a fresh one would).
 * The request id is the one part that differs per request: the assertion does not cover it (docs/origin.md).
 * Only a token verified before in this isolate (a verified-token cache hit) gets its assertion kept
 * (src/gateway.ts): the entry, its ~1 KiB key and its eviction cost every distinct token 4-25 us for nothing.
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

/** The query is part of the key as text: an assertion binds its digest, so another query needs its own. */
export const reuseKey = (routeId: string, target: ForwardedRequest, token: string): string =>
  `${routeId}\n${target.method}\n${target.host}\n${target.path}\n${target.query}\n${token}`;

/** Text held by headers, by name and value. */
export function textBytes(headers: readonly (readonly [string, string])[], omitted: readonly string[]): number {
  let bytes = 0;
  for (const [name, value] of headers) bytes += name.length + value.length;
  for (const name of omitted) bytes += name.length;
  return bytes;
}
