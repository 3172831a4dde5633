import { describe, expect, it } from 'vitest';
import { mayAttempt } from '../../../src/keys/key-loader.ts';
import type { IssuerKeyState } from '../../../src/keys/key-memory.ts';
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
