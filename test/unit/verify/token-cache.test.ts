/** The verified-token cache's bounds: entries and token bytes, oldest insertion evicted first. */
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenCache, type VerifiedToken } from '../../../src/verify/token-cache.ts';

let key: CryptoKey;
beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  key = pair.publicKey;
});
const entry = (sub: string): VerifiedToken => ({ header: { alg: 'EdDSA' }, claims: { sub }, issuerId: 'idp', alg: 'EdDSA', key, fingerprint: null });
const token = (n: number, length = 10) => `t${n}`.padEnd(length, '.');

describe('TokenCache bounds', () => {
  it('keeps at most maxEntries, evicting the oldest insertion first', () => {
    const cache = new TokenCache({ maxEntries: 3, maxTokenBytes: 1_000_000 });
    for (let n = 0; n < 5; n++) cache.set(token(n), entry(`u${n}`));
    expect(cache.size).toBe(3);
    expect(cache.get(token(0))).toBeUndefined();
    expect(cache.get(token(1))).toBeUndefined();
    expect(cache.get(token(4))?.claims.sub).toBe('u4');
  });

  it('keeps at most maxTokenBytes of token text', () => {
    const cache = new TokenCache({ maxEntries: 1000, maxTokenBytes: 250 });
    for (let n = 0; n < 10; n++) cache.set(token(n, 100), entry(`u${n}`));
    expect(cache.tokenBytes).toBeLessThanOrEqual(250);
    expect(cache.size).toBe(2);
    expect(cache.get(token(9, 100))).toBeDefined();
  });

  it('never stores a token larger than the whole byte budget, and stores nothing when maxEntries is 0', () => {
    const small = new TokenCache({ maxEntries: 10, maxTokenBytes: 50 });
    small.set(token(1, 51), entry('u'));
    expect(small.size).toBe(0);
    const off = new TokenCache({ maxEntries: 0, maxTokenBytes: 1000 });
    off.set(token(1), entry('u'));
    expect(off.size).toBe(0);
  });

  it('counts a re-inserted token once', () => {
    const cache = new TokenCache({ maxEntries: 10, maxTokenBytes: 1000 });
    cache.set(token(1), entry('a'));
    cache.set(token(1), entry('b'));
    expect(cache.size).toBe(1);
    expect(cache.tokenBytes).toBe(token(1).length);
    expect(cache.get(token(1))?.claims.sub).toBe('b');
    cache.delete(token(1));
    expect(cache.tokenBytes).toBe(0);
  });
});
