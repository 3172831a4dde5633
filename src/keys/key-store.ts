/**
 * Finds the verification key for a token through the layers: isolate memory -> Cache API -> KV -> the issuer
 * (docs/keys.md). The warm path is memory alone: no fetch, no KV or cache read. Imported CryptoKeys are reused,
 * never imported per request.
 *
 * Only values are shared between requests, never a pending promise: workerd forbids awaiting I/O another
 * request started. Concurrent requests that need the same load poll isolate memory while one of them loads.
 */
import type { JWK } from 'jose';
import {
  KEY_LOAD_POLL_MS,
  KEY_PEER_WAIT_MS,
  KEY_REFRESH_AHEAD_FRACTION,
  MAX_KEY_WAITERS_PER_ISSUER,
  UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS,
} from '../config/constants.ts';
import type { Algorithm, CompiledIssuer } from '../config/types.ts';
import type { Env } from '../env.ts';
import { finding, type Finding } from '../findings.ts';
import { KeyLayers } from './key-layers.ts';
import { staleUntil } from './key-cache-policy.ts';
import { loadKeySet, mayAttempt, type LoadIo } from './key-loader.ts';
import { busy, KeyMemory, type IssuerKeyState } from './key-memory.ts';
import type { StoredJwks } from './stored-doc.ts';
import { keyAllowsAlgorithm } from './validate-jwk.ts';

/** Which layer answered: recorded in the verification log. `stale`: past expiry, inside the stale-if-error window. */
export type KeyLayer = 'inline' | 'memory' | 'cache' | 'kv' | 'network' | 'stale';

export type KeyLookup = { ok: true; key: CryptoKey; layer: KeyLayer } | { ok: false; finding: Finding };

/**
 * What authenticate() needs: one request's view of the key store. A key already in isolate memory (fresh,
 * imported, no refresh due) is answered synchronously, so the warm path costs no promise and no await.
 */
export interface KeyResolver {
  resolve(issuer: CompiledIssuer, kid: string | undefined, alg: Algorithm, now: number): KeyLookup | Promise<KeyLookup>;
}

export interface KeyStoreOptions {
  allowLoopbackHttp: boolean;
  /** How long a request waits for a peer's load, or for its own probe; KEY_PEER_WAIT_MS unless a test lengthens it to assert order, never time. */
  peerWaitMs?: number;
  /** Requests per issuer that may wait at once; MAX_KEY_WAITERS_PER_ISSUER unless a test lowers it. */
  maxWaitersPerIssuer?: number;
}

export type RefreshReport = { issuer: string; ok: boolean; expiresAt: number | null };

type Found = { set: StoredJwks; layer: KeyLayer };

const fresh = (set: StoredJwks | undefined, now: number): set is StoredJwks => set !== undefined && now < set.expiresAt;
const refreshDue = (set: StoredJwks, now: number) => now >= set.fetchedAt + (set.expiresAt - set.fetchedAt) * KEY_REFRESH_AHEAD_FRACTION;
/** The circuit breaker is open: the last look failed within the cooldown, so nobody looks or waits. */
const issuerDown = (state: IssuerKeyState, now: number) => state.failedAt !== undefined && now - state.failedAt < UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS;
/** One refresh ahead per set, whatever the unknown-kid cooldown says (it would forbid one for lifetimes under 37.5 s). */
const mayRefreshAhead = (state: IssuerKeyState, set: StoredJwks, now: number) =>
  refreshDue(set, now) && state.refreshedAheadOf !== set.fetchedAt && !busy(state, now) && !issuerDown(state, now);
/** Why a request got no keys, for the log: the operator tells a down issuer from a slow one from a cold start. */
function unavailableBecause(state: IssuerKeyState, now: number): string {
  const set = state.set ? 'key set expired past its stale window' : 'no key set could be loaded';
  if (busy(state, now)) return `${set}; another request is loading it, not waited for longer`;
  if (issuerDown(state, now)) return `${set}; issuer down: a look failed within the cooldown`;
  return set;
}
const isFetched = (issuer: CompiledIssuer) => issuer.keySource.kind === 'jwks' || issuer.keySource.kind === 'discovery';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class KeyStore {
  readonly #memory = new KeyMemory();
  /** Issuers distrusted since their last load (distrust()): the next load skips the shared layers, once. */
  readonly #refetchFromIssuer = new Set<string>();

  private readonly options: KeyStoreOptions;

  constructor(options: KeyStoreOptions) {
    this.options = options;
  }

  /** One request's resolver: the bindings and waitUntil of this request, the memory of the isolate. */
  forRequest(env: Env, ctx: ExecutionContext): KeyResolver {
    // The layers are only built when memory cannot answer.
    let io: LoadIo | undefined;
    return { resolve: (issuer, kid, alg, now) => this.#warm(issuer, kid, alg, now) ?? this.#resolve((io ??= this.#io(env, ctx)), ctx, issuer, kid, alg, now) };
  }

  /**
   * The steady state, synchronously: the key of an inline issuer or of a fresh set in memory with no refresh
   * due, already imported. Anything else (a load, a refresh ahead, an unknown kid, a first import) is null
   * and goes the full way.
   */
  #warm(issuer: CompiledIssuer, kid: string | undefined, alg: Algorithm, now: number): KeyLookup | null {
    let keys: readonly JWK[];
    let layer: KeyLayer;
    if (issuer.keySource.kind === 'inline') {
      keys = issuer.keySource.keys;
      layer = 'inline';
    } else {
      const set = this.#memory.state(issuer.id).set;
      if (!fresh(set, now) || refreshDue(set, now)) return null;
      keys = set.keys;
      layer = 'memory';
    }
    const jwk = findJwk(keys, kid, alg);
    const key = jwk && this.#memory.importedKeyNow(jwk, alg);
    return key ? { ok: true, key, layer } : null;
  }

  /**
   * Emergency control (docs/control.md, `npm run distrust`): forgets this isolate's key set of the issuer and
   * its cooldown, so the next use loads again, from the issuer itself: the Cache API and KV may still hold
   * the distrusted set. Once: later loads go through the layers as usual.
   */
  distrust(issuerId: string): void {
    const state = this.#memory.state(issuerId);
    state.set = undefined;
    state.lastAttempt = undefined;
    state.failedAt = undefined;
    this.#refetchFromIssuer.add(issuerId);
  }

  /** The cron: every fetched issuer from the network into memory, KV and the Cache API; a failure keeps what is there. */
  async refreshAll(issuers: readonly CompiledIssuer[], env: Env, ctx: ExecutionContext, now: number): Promise<RefreshReport[]> {
    const io = this.#io(env, ctx);
    const fetched = issuers.filter(isFetched);
    return Promise.all(
      fetched.map(async (issuer) => {
        const loaded = await loadKeySet(io, issuer, this.#memory.state(issuer.id), now, () => true, { fromLayers: false });
        return { issuer: issuer.id, ok: loaded !== null, expiresAt: loaded?.set.expiresAt ?? null };
      }),
    );
  }

  #io(env: Env, ctx: ExecutionContext): LoadIo {
    const cache = typeof caches === 'undefined' ? undefined : caches.default;
    return { layers: new KeyLayers({ kv: env.JWKS_CACHE, cache, waitUntil: (p) => ctx.waitUntil(p) }), allowLoopbackHttp: this.options.allowLoopbackHttp };
  }

  async #resolve(io: LoadIo, ctx: ExecutionContext, issuer: CompiledIssuer, kid: string | undefined, alg: Algorithm, now: number): Promise<KeyLookup> {
    if (issuer.keySource.kind === 'inline') return this.#key(issuer, issuer.keySource.keys, kid, alg, 'inline');
    if (!isFetched(issuer)) return { ok: false, finding: finding('keys_unavailable', { detail: 'issuer has no public keys' }) };
    const state = this.#memory.state(issuer.id);
    let found: Found | null = fresh(state.set, now) ? { set: state.set, layer: 'memory' } : null;
    const servableUntil = () => (state.set ? staleUntil(state.set, issuer) : -Infinity);
    // With a usable stale set, a request never waits for a peer's load, and waits for its own at most KEY_PEER_WAIT_MS.
    if (!found) found = await this.#load(io, ctx, issuer, state, now, (set) => fresh(set, now), now < servableUntil());
    if (!found) {
      if (!state.set || now >= servableUntil()) {
        return { ok: false, finding: finding('keys_unavailable', { detail: unavailableBecause(state, now) }) };
      }
      // Past expiry: #load answers with a fresh set in memory (another look's) itself.
      found = { set: state.set, layer: 'stale' };
    } else if (found.layer === 'memory' && mayRefreshAhead(state, found.set, now)) {
      // Refresh ahead: this request is served from the cached set; the refresh finishes after the response.
      state.refreshedAheadOf = found.set.fetchedAt;
      ctx.waitUntil(loadKeySet(io, issuer, state, now, (set) => !refreshDue(set, now), { fromLayers: true, refreshAhead: true }).catch(() => undefined));
    }

    const has = (set: StoredJwks) => findJwk(set.keys, kid, alg) !== undefined;
    // A kid the set holds, for a key that does not fit the token's alg, is no rotation: refused from memory.
    const named = (set: StoredJwks) => kid !== undefined && set.keys.some((k) => k.kid === kid);
    if (!has(found.set) && !named(found.set) && found.layer !== 'stale' && !this.#memory.isUnknownKid(issuer.id, kid, found.set, now)) {
      // An unknown kid may be a rotation: at most one look beyond memory per issuer per cooldown.
      const looksBefore = state.looksStarted;
      const again = await this.#load(io, ctx, issuer, state, now, (set) => fresh(set, now) && has(set), false);
      if (again) found = again;
      // Remembered only once the issuer answered, to a look started after this request began, with a set that
      // lacks it: a kid refused by a cooldown alone (this isolate's or its data centre's), by a failed look (5xx,
      // timeout, refused answer), by a look still under way when this request stopped waiting for it, or by one
      // started before it (the cron's, a refresh ahead: its set may predate the kid) gets its look later.
      if (!has(found.set) && state.lastSetLook > looksBefore && !(state.set && has(state.set))) {
        this.#memory.rememberUnknownKid(issuer.id, kid, state.set ?? found.set, now);
      }
    }
    if (!has(found.set)) {
      return { ok: false, finding: finding('kid_unknown', { actual: kid ?? null }) };
    }
    return this.#key(issuer, found.set.keys, kid, alg, found.layer);
  }

  /**
   * Loads through the layers unless the cooldown forbids it. When another request of this isolate is loading
   * the issuer, waits for it by polling memory (never by awaiting its promise), at most KEY_PEER_WAIT_MS and
   * only as one of MAX_KEY_WAITERS_PER_ISSUER, and takes what it left there. Null means "answer with what you
   * have": the stale set, kid_unknown, or 503. `fallback`: a stale set can answer if this load does not.
   */
  async #load(io: LoadIo, ctx: ExecutionContext, issuer: CompiledIssuer, state: IssuerKeyState, now: number, want: (set: StoredJwks) => boolean, fallback: boolean): Promise<Found | null> {
    // Whatever ends in null (a wait, a probe's race, a look), another look of this isolate (the cron's) may have
    // left memory holding a set that will do meanwhile: that one answers.
    const inMemory = () => (state.set && want(state.set) ? { set: state.set, layer: 'memory' as const } : null);
    // So does a look's own answer that will not do: an older set than a later look's (the cron's), which memory holds.
    const orMemory = (loaded: Found | null) => (loaded && want(loaded.set) ? loaded : (inMemory() ?? loaded));
    if (busy(state, now)) {
      // A probe of an issuer known to be down is nothing to wait for; with a stale set nobody waits at all.
      if (fallback || state.failedAt !== undefined || !(await this.#waitForPeer(state, now, want))) return inMemory();
    }
    if (inMemory() || !mayAttempt(state, now)) return inMemory();
    const probe = fallback || state.failedAt !== undefined;
    const load = loadKeySet(io, issuer, state, now, want, { fromLayers: !this.#refetchFromIssuer.delete(issuer.id) });
    if (probe) {
      // The issuer is known to be down, or a stale set can answer: this request waits for its own look no longer
      // than a peer would; the look finishes in the background and leaves its set in memory for later requests.
      ctx.waitUntil(load.catch(() => undefined));
      return orMemory(await Promise.race([load, sleep(this.options.peerWaitMs ?? KEY_PEER_WAIT_MS).then(() => null)]));
    }
    return orMemory(await load);
  }

  /**
   * Polls memory until the peer's load is done (true), or memory holds a set that will do, or the wait is over
   * or refused (false: #load then answers from memory if it can).
   */
  async #waitForPeer(state: IssuerKeyState, now: number, want: (set: StoredJwks) => boolean): Promise<boolean> {
    const started = Date.now();
    // A request cancelled mid-wait never removes its entry: entries expire with their deadline instead.
    state.waiting = state.waiting.filter((deadline) => deadline > started);
    if (state.waiting.length >= (this.options.maxWaitersPerIssuer ?? MAX_KEY_WAITERS_PER_ISSUER)) return false;
    const deadline = started + (this.options.peerWaitMs ?? KEY_PEER_WAIT_MS);
    state.waiting.push(deadline);
    try {
      while (busy(state, now) && !(state.set && want(state.set)) && Date.now() < deadline) await sleep(KEY_LOAD_POLL_MS);
    } finally {
      const mine = state.waiting.indexOf(deadline);
      if (mine >= 0) state.waiting.splice(mine, 1);
    }
    return !busy(state, now);
  }

  async #key(issuer: CompiledIssuer, keys: readonly JWK[], kid: string | undefined, alg: Algorithm, layer: KeyLayer): Promise<KeyLookup> {
    const jwk = findJwk(keys, kid, alg);
    if (!jwk) return { ok: false, finding: finding('kid_unknown', { actual: kid ?? null }) };
    try {
      return { ok: true, key: await this.#memory.importedKey(issuer.id, jwk, alg), layer };
    } catch {
      return { ok: false, finding: finding('kid_unknown', { actual: kid ?? null, detail: 'key could not be imported' }) };
    }
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
