import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CompiledIssuer } from '../../../src/config/types.ts';
import type { KeyLayers } from '../../../src/keys/key-layers.ts';
import { loadKeySet, mayAttempt, type LoadIo } from '../../../src/keys/key-loader.ts';
import { busy, type IssuerKeyState } from '../../../src/keys/key-memory.ts';
import type { StoredJwks } from '../../../src/keys/stored-doc.ts';

const NOW = 1_900_000_000;
const setFetchedAt = (fetchedAt: number): StoredJwks => ({ v: 1, kind: 'jwks', issuer: 'https://idp.example', source: 'https://idp.example/jwks', fetchedAt, expiresAt: fetchedAt + 300, keys: [] });

describe('mayAttempt: the unknown-kid cooldown (30 s) and the circuit breaker', () => {
  const cases: [string, Partial<IssuerKeyState>, boolean][] = [
    ['nothing tried, nothing fetched', {}, true],
    ['a look started 29 s ago', { lastAttempt: NOW - 29 }, false],
    ['a look started 30 s ago', { lastAttempt: NOW - 30 }, true],
    ['a set fetched 10 s ago (by any isolate)', { set: setFetchedAt(NOW - 10) }, false],
    ['a failed refresh ahead 10 s ago (it sets no lastAttempt): the breaker is open', { failedAt: NOW - 10, lastAttempt: NOW - 100 }, false],
    ['a failure 30 s ago: the breaker lets one probe through', { failedAt: NOW - 30, lastAttempt: NOW - 30, set: setFetchedAt(NOW - 100) }, true],
  ];
  it.each(cases)('%s', (_name, state, expected) => {
    expect(mayAttempt({ waiting: [], loading: [], looksStarted: 0, lastSetLook: 0, ...state }, NOW)).toBe(expected);
  });
});

/**
 * Loads whose look at the Cache API is held until the test releases it, then told this data centre looked
 * just now: each ends there (no network). `released(i)` lets the i-th load's read answer.
 */
function heldLoads() {
  const reads: (() => void)[] = [];
  const layers = {
    read: (layer: string) => (layer === 'kv' ? Promise.resolve(null) : new Promise((resolve) => reads.push(() => resolve({ doc: null, triedAt: NOW })))),
    write: () => undefined,
    markFailedLook: () => undefined,
  } as unknown as KeyLayers;
  const io: LoadIo = { layers, allowLoopbackHttp: false };
  const issuer = { id: 'idp', issuer: 'https://idp.example', keySource: { kind: 'jwks', url: 'https://idp.example/jwks' } } as CompiledIssuer;
  const state: IssuerKeyState = { waiting: [], loading: [], looksStarted: 0, lastSetLook: 0, names: { jwks: { cache: 'c', kv: 'k' }, discovery: { cache: 'c', kv: 'k' } } as IssuerKeyState['names'] };
  /** Starts a load begun at `now`; returns once it is reading the Cache API, with the load's end. */
  const start = async (now: number) => {
    const count = reads.length;
    const done = loadKeySet(io, issuer, state, now, () => true, { fromLayers: true });
    while (reads.length === count) await new Promise((resolve) => setTimeout(resolve, 1));
    return { done };
  };
  return { state, start, release: (i: number) => reads[i]!() };
}

describe("a load's busy mark (11 s bound: KEY_LOAD_WAIT_MS)", () => {
  beforeEach(() => void vi.spyOn(console, 'warn').mockImplementation(() => undefined));
  afterEach(() => void vi.restoreAllMocks());

  it("a cancelled request's mark older than the bound is ignored by busy() and pruned by the next load", async () => {
    const { state, start, release } = heldLoads();
    state.loading = [{ look: 1, since: NOW - 11 }]; // its load never ended
    state.looksStarted = 1;
    expect(busy(state, NOW - 1)).toBe(true);
    expect(busy(state, NOW)).toBe(false);
    const load = await start(NOW);
    expect(state.loading).toEqual([{ look: 2, since: NOW }]);
    release(0);
    await load.done;
    expect(state.loading).toEqual([]);
  });

  it('a load removes its own mark only: once pruned, it leaves the mark of a later load that began in the same second', async () => {
    const { state, start, release } = heldLoads();
    const slow = await start(NOW - 11); // still under way when its mark is pruned
    const pruning = await start(NOW); // 11 s later: prunes the slow load's mark
    const sameSecond = await start(NOW - 11); // a request that began when the slow load did, loading only now
    expect(state.loading.map((load) => load.since)).toEqual([NOW, NOW - 11]);
    release(0);
    await slow.done;
    expect(state.loading.map((load) => load.since)).toEqual([NOW, NOW - 11]);
    release(1);
    release(2);
    await Promise.all([pruning.done, sameSecond.done]);
    expect(state.loading).toEqual([]);
  });
});
