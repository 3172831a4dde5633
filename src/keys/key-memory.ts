/**
 * The isolate-memory layer: per issuer the last good key set (fresh or not) and bookkeeping, imported
 * CryptoKeys (LRU, shared by all issuers) and unknown kids (LRU). Holds values only, never a pending
 * promise: workerd forbids a request to await I/O another request started.
 */
import type { JWK } from 'jose';
import { KEY_LOAD_WAIT_MS, MAX_IMPORTED_KEYS, MAX_NEGATIVE_KIDS, NEGATIVE_KID_TTL_SECONDS } from '../config/constants.ts';
import type { Algorithm } from '../config/types.ts';
import { importVerificationKey } from './import-key.ts';
import { Lru } from './lru.ts';
import type { DocNames, StoredDiscovery, StoredJwks } from './stored-doc.ts';

export interface IssuerKeyState {
  names?: { jwks: DocNames; discovery: DocNames };
  /** The last good key set, kept past its expiry for the stale-if-error window. */
  set?: StoredJwks;
  discovery?: StoredDiscovery;
  /** When this isolate last looked beyond memory for this issuer (seconds); starts the cooldown, success or not. */
  lastAttempt?: number;
  /** Loads this isolate started, numbered in order: a request notes the count when it begins. */
  looksStarted: number;
  /**
   * The number of the load whose look at the issuer brought the last set the issuer answered with (0: none). A
   * request tells by it whether a look started after it began ended with a set, and so whether a kid that set
   * lacks is really missing: a failed look, or one started before the request (its set may predate the kid), says nothing.
   */
  lastSetLook: number;
  /**
   * Each load of this issuer's keys under way in this isolate: its number (`looksStarted`) and when it began (s);
   * others poll memory instead of loading too. One entry per load, removed by its number, so a load that ends
   * (the cron's, one whose entry was pruned as left over) never clears another's begun in the same second.
   */
  loading: { look: number; since: number }[];
  /**
   * When the last look at the issuer failed (refused, 5xx, timeout): the circuit breaker. Open for the cooldown
   * after it (no look, no wait); then one request probes while the others answer at once. Cleared by a good set.
   */
  failedAt?: number;
  /** The `fetchedAt` of the set a refresh ahead was last started for: one per set, a budget apart from the cooldown. */
  refreshedAheadOf?: number;
  /** Real-time deadlines (ms) of the requests polling for a peer's load: counted against the cap, expire on their own. */
  waiting: number[];
}

/** A load begun at `since` may still be under way; an older mark is left over from a cancelled request. */
export const underWay = (since: number, now: number) => now - since < KEY_LOAD_WAIT_MS / 1000;
/** A peer is loading: a load of this isolate is under way. */
export const busy = (state: IssuerKeyState, now: number) => state.loading.some((load) => underWay(load.since, now));

/** The material that makes a key what it is: two JWKs with the same material are the same CryptoKey. */
const material = (jwk: JWK) => [jwk.kty, jwk.crv, jwk.n, jwk.e, jwk.x, jwk.y].map((part) => part ?? '').join('.');

export class KeyMemory {
  // One entry per configured issuer: bounded by the policy, not by traffic.
  readonly #issuers = new Map<string, IssuerKeyState>();
  readonly #imported = new Lru<string, CryptoKey>(MAX_IMPORTED_KEYS);
  readonly #unknownKids = new Lru<string, { setFetchedAt: number; until: number }>(MAX_NEGATIVE_KIDS);
  /**
   * The same keys by JWK object, for the warm path: no material string to build and hash per request. Lives
   * as long as the key set holding the JWK (a refreshed set brings new objects, found again by material).
   */
  readonly #byJwk = new WeakMap<JWK, Partial<Record<Algorithm, CryptoKey>>>();

  state(issuerId: string): IssuerKeyState {
    let state = this.#issuers.get(issuerId);
    if (!state) this.#issuers.set(issuerId, (state = { waiting: [], loading: [], looksStarted: 0, lastSetLook: 0 }));
    return state;
  }

  /** The imported key for this JWK and algorithm; imported once, then reused across requests and refreshes. */
  async importedKey(issuerId: string, jwk: JWK, alg: Algorithm): Promise<CryptoKey> {
    const known = this.importedKeyNow(jwk, alg);
    if (known) return known;
    const name = `${issuerId}\n${alg}\n${material(jwk)}`;
    let key = this.#imported.get(name);
    if (!key) {
      key = await importVerificationKey(jwk, alg);
      this.#imported.set(name, key);
    }
    let forJwk = this.#byJwk.get(jwk);
    if (!forJwk) this.#byJwk.set(jwk, (forJwk = {}));
    forJwk[alg] = key;
    return key;
  }

  /** The key already imported for this very JWK object and algorithm, if any. */
  importedKeyNow(jwk: JWK, alg: Algorithm): CryptoKey | undefined {
    return this.#byJwk.get(jwk)?.[alg];
  }

  /** True when this kid was already looked for in this very key set, recently: it must not trigger a refresh again. */
  isUnknownKid(issuerId: string, kid: string | undefined, set: StoredJwks | undefined, now: number): boolean {
    const entry = this.#unknownKids.get(`${issuerId}\n${kid ?? ''}`);
    return entry !== undefined && set !== undefined && entry.setFetchedAt === set.fetchedAt && now < entry.until;
  }

  rememberUnknownKid(issuerId: string, kid: string | undefined, set: StoredJwks | undefined, now: number): void {
    if (set) this.#unknownKids.set(`${issuerId}\n${kid ?? ''}`, { setFetchedAt: set.fetchedAt, until: now + NEGATIVE_KID_TTL_SECONDS });
  }
}
