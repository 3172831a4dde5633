/**
 * Loads an issuer's key set from below isolate memory: the Cache API, then KV, then the issuer (through
 * discovery when configured). Whatever a lower layer answers is written back to the layers above it, in the
 * background. A refused or failed network answer never replaces the last good set.
 */
import { UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS } from '../config/constants.ts';
import type { CompiledIssuer } from '../config/types.ts';
import { keyCachePolicy, staleUntil } from './key-cache-policy.ts';
import { fetchDiscovery } from './discovery.ts';
import { fetchJwks } from './jwks-fetch.ts';
import type { KeyLayers, SharedLayer } from './key-layers.ts';
import { underWay, type IssuerKeyState } from './key-memory.ts';
import { docNames, markAsOf, STORED_DOC_VERSION, type DocNames, type StoredDoc, type StoredJwks } from './stored-doc.ts';
import { warn } from '../log/warn.ts';

export interface LoadIo {
  layers: KeyLayers;
  allowLoopbackHttp: boolean;
}

export interface LoadOptions {
  /** Request path: look in the shared layers first and respect this data centre's cooldown. The cron goes straight to the issuer. */
  fromLayers: boolean;
  /**
   * A refresh ahead of expiry: its own budget (one per set, docs/keys.md), so it leaves the unknown-kid cooldown
   * alone, and this data centre's last attempt stops it only when made after the set in memory was fetched.
   */
  refreshAhead?: boolean;
}

/**
 * What this look brought, or null. A set another look of this isolate (the cron's) left in memory is never this
 * look's answer: KeyStore's #load, the one place that answers from memory, serves it as `memory` (docs/keys.md).
 */
export type Loaded = { set: StoredJwks; layer: SharedLayer | 'network' };

const SHARED_LAYERS: readonly SharedLayer[] = ['cache', 'kv'];


/** True when this isolate may look beyond memory: nothing tried, no set fetched, no look failed, within the cooldown. */
export function mayAttempt(state: IssuerKeyState, now: number): boolean {
  const last = Math.max(state.lastAttempt ?? -Infinity, state.set?.fetchedAt ?? -Infinity, state.failedAt ?? -Infinity);
  return now - last >= UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS;
}

const isNewer = (doc: StoredDoc, than: StoredDoc | undefined) => than === undefined || doc.fetchedAt > than.fetchedAt;

async function namesOf(issuer: CompiledIssuer, state: IssuerKeyState) {
  state.names ??= { jwks: await docNames('jwks', issuer), discovery: await docNames('discovery', issuer) };
  return state.names;
}

/**
 * Finds a set that satisfies `want` (fresh, has this kid, ...). Marks the attempt first (the cooldown starts
 * now, whatever the outcome) and the issuer busy, so other requests of this isolate wait instead of loading.
 * The data centre learns of the look through the key set's Cache API entry (docs/keys.md): when a set is known,
 * before the fetch (that set, marked tried now); otherwise only when the look ends, with the set it brought or,
 * on failure, the mark alone unless another isolate stored a set meanwhile. So a cold load that succeeds makes no
 * Cache API call of its own but the read and the write-back; one that fails reads the entry again.
 */
export async function loadKeySet(
  io: LoadIo,
  issuer: CompiledIssuer,
  state: IssuerKeyState,
  now: number,
  want: (set: StoredJwks) => boolean,
  options: LoadOptions,
): Promise<Loaded | null> {
  const look = ++state.looksStarted;
  // Marks left over by cancelled requests go as this load adds its own.
  state.loading = state.loading.filter((load) => underWay(load.since, now)).concat({ look, since: now });
  if (!options.refreshAhead) state.lastAttempt = now;
  try {
    const names = (await namesOf(issuer, state)).jwks;
    const policy = keyCachePolicy(issuer);
    if (options.fromLayers) {
      const shared = await fromSharedLayers(io, issuer, state, names, now, want, options.refreshAhead === true);
      if (shared !== 'go to the issuer') return shared;
      // Another look of this isolate (the cron's) may have brought a set that will do during those reads: no fetch
      // (#load answers with it from memory).
      if (state.set && want(state.set)) return null;
    } else if (state.set) {
      // The cron fetches whatever the layers hold, but first takes the Cache API's newer set into memory: it marks
      // the newest set here, not its own older one over another isolate's.
      const doc = (await io.layers.read('cache', 'jwks', names, issuer.issuer))?.doc;
      if (doc?.kind === 'jwks' && isNewer(doc, state.set)) state.set = doc;
    }
    if (state.set) io.layers.write(['cache'], names, state.set, staleUntil(state.set, issuer), now, now);
    // Whether memory holds a set as the look leaves for the network (not: a cold look). The cron may bring one meanwhile.
    const cold = !state.set;
    const url = await jwksUrlFor(io, issuer, state, now, options);
    const fetched = url.ok ? await fetchJwks(url.url, io.allowLoopbackHttp, policy) : url;
    if (!fetched.ok) {
      // Unless a look started after this one brought a set meanwhile (the cron's): the issuer answered it later.
      if (state.lastSetLook < look) state.failedAt = now;
      // The reason names what was wrong (status, size, which key member), never key material or a token.
      warn('jwks_fetch_failed', { issuer: issuer.id, reason: fetched.reason, kept_set_fetched_at: state.set?.fetchedAt ?? null });
      // A cold look that reads the layers reads the Cache API again (adoptOrMark); awaited, so the issuer stays busy
      // until it ends and this isolate's waiting requests find the adopted set. Otherwise null: the cron reports its
      // failure, and a request's #load (key-store.ts) answers with what memory holds, if it will do.
      return options.fromLayers && cold ? await adoptOrMark(io, issuer, state, names, now, want) : null;
    }
    const set: StoredJwks = {
      v: STORED_DOC_VERSION,
      kind: 'jwks',
      issuer: issuer.issuer,
      source: url.ok ? url.url : '',
      fetchedAt: now,
      expiresAt: now + fetched.maxAgeSeconds,
      keys: fetched.keys,
    };
    // Unless a look started after this one brought a set first (the cron's): that answer is the newer, and stays
    // in memory and the layers (a kid rotated in between is not lost); this one answers its own request only.
    if (state.lastSetLook < look) {
      state.set = set;
      state.lastSetLook = look;
      state.failedAt = undefined;
      io.layers.write(SHARED_LAYERS, names, set, staleUntil(set, issuer), now, now);
    }
    return { set, layer: 'network' };
  } finally {
    // Its own entry only: it may have been dropped as left over (older than any load), then there is none.
    state.loading = state.loading.filter((load) => load.look !== look);
  }
}

/**
 * The Cache API, then KV: a newer set than memory's is adopted (and a KV answer written to the Cache API).
 * Null when another isolate of this data centre tried the issuer within the cooldown (the Cache API entry's
 * `triedAt`): its answer, if it had one, was among those just read.
 */
async function fromSharedLayers(
  io: LoadIo,
  issuer: CompiledIssuer,
  state: IssuerKeyState,
  names: DocNames,
  now: number,
  want: (set: StoredJwks) => boolean,
  refreshAhead: boolean,
): Promise<Loaded | null | 'go to the issuer'> {
  let triedAt: number | undefined;
  for (const layer of SHARED_LAYERS) {
    const entry = await io.layers.read(layer, 'jwks', names, issuer.issuer);
    if (layer === 'cache') triedAt = markAsOf(entry, now);
    const doc = entry?.doc;
    if (doc?.kind !== 'jwks' || !isNewer(doc, state.set)) continue;
    state.set = doc;
    // The issuer answered another isolate after our failed look: the breaker closes here too.
    if (state.failedAt !== undefined && doc.fetchedAt >= state.failedAt) state.failedAt = undefined;
    // The data centre's mark stays with the entry it replaces.
    if (layer === 'kv') io.layers.write(['cache'], names, doc, staleUntil(doc, issuer), now, triedAt);
    if (want(doc)) return { set: doc, layer };
  }
  if (triedAt === undefined || now - triedAt >= UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS) return 'go to the issuer';
  // The attempt that fetched the set being refreshed is no reason to wait; a later one (failed, or under way) is.
  if (refreshAhead && state.set && triedAt <= state.set.fetchedAt) return 'go to the issuer';
  // Said when it leaves this isolate without a fresh set (stale or 503 follows), so the operator sees why.
  if (!state.set || now >= state.set.expiresAt) {
    warn('jwks_fetch_failed', { issuer: issuer.id, reason: 'not fetched: this data centre tried the issuer within the cooldown', kept_set_fetched_at: state.set?.fetchedAt ?? null });
  }
  return null;
}

/**
 * A look that failed with no set known: another isolate here may have stored one while it ran, and the mark
 * alone would replace it (cold isolates would then find no set for the cooldown). So the Cache API entry is
 * read again, on this failure path only: a set there newer than memory's is adopted, and marked tried now unless
 * its mark is as late; the set memory then holds answers if it will do. With no set anywhere, the entry gets the mark.
 */
async function adoptOrMark(io: LoadIo, issuer: CompiledIssuer, state: IssuerKeyState, names: DocNames, now: number, want: (set: StoredJwks) => boolean): Promise<Loaded | null> {
  const entry = await io.layers.read('cache', 'jwks', names, issuer.issuer);
  const doc = entry?.doc;
  // This failed look is recorded unless the entry holds a later one: a set may come unmarked (a KV copy).
  const mark = markAsOf(entry, now) ?? -1;
  if (doc?.kind === 'jwks' && isNewer(doc, state.set)) {
    state.set = doc;
    // The issuer answered another isolate since this look started: the breaker closes here too.
    if (doc.fetchedAt >= now) state.failedAt = undefined;
    if (mark < now) io.layers.write(['cache'], names, doc, staleUntil(doc, issuer), now, now);
  }
  // The cron of this isolate may have brought a newer set into memory meanwhile, and stored it marked: that one
  // stays (whatever the entry held when read, the mark alone must not replace it), and #load answers with it.
  if (!state.set) io.layers.markFailedLook(names, issuer.issuer, Math.max(mark, now));
  const adopted = state.set === doc ? state.set : undefined;
  return adopted && want(adopted) ? { set: adopted, layer: 'cache' } : null;
}

type UrlResult = { ok: true; url: string } | { ok: false; reason: string };

/** The JWKS URL: configured, or from the discovery document, itself taken from memory, the layers or the issuer. */
async function jwksUrlFor(io: LoadIo, issuer: CompiledIssuer, state: IssuerKeyState, now: number, options: LoadOptions): Promise<UrlResult> {
  const source = issuer.keySource;
  if (source.kind === 'jwks') return { ok: true, url: source.url };
  if (source.kind !== 'discovery') return { ok: false, reason: 'inline keys are never fetched' };
  const policy = keyCachePolicy(issuer);
  const names = (await namesOf(issuer, state)).discovery;
  const fresh = () => state.discovery !== undefined && now < state.discovery.expiresAt;
  if (options.fromLayers && !fresh()) {
    for (const layer of SHARED_LAYERS) {
      const doc = (await io.layers.read(layer, 'discovery', names, issuer.issuer))?.doc;
      if (doc?.kind !== 'discovery' || !isNewer(doc, state.discovery)) continue;
      state.discovery = doc;
      if (layer === 'kv') io.layers.write(['cache'], names, doc, staleUntil(doc, issuer), now);
      if (fresh()) break;
    }
  }
  if (options.fromLayers && fresh()) return { ok: true, url: state.discovery!.jwksUri };
  const fetched = await fetchDiscovery(source.url, issuer.issuer, io.allowLoopbackHttp, policy);
  if (fetched.ok) {
    state.discovery = {
      v: STORED_DOC_VERSION,
      kind: 'discovery',
      issuer: issuer.issuer,
      source: source.url,
      fetchedAt: now,
      expiresAt: now + fetched.maxAgeSeconds,
      jwksUri: fetched.jwksUri,
    };
    io.layers.write(SHARED_LAYERS, names, state.discovery, staleUntil(state.discovery, issuer), now);
    return { ok: true, url: fetched.jwksUri };
  }
  // Stale-if-error for the document too: a down or hostile discovery endpoint keeps the last good jwks_uri for a while.
  if (state.discovery && now < staleUntil(state.discovery, issuer)) {
    warn('jwks_fetch_failed', { issuer: issuer.id, reason: fetched.reason, kept_discovery_fetched_at: state.discovery.fetchedAt });
    return { ok: true, url: state.discovery.jwksUri };
  }
  return fetched;
}
