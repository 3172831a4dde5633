/** The reused assertions' bounds: by entries and by the text they hold, oldest first out. */
import { describe, expect, it } from 'vitest';
import { newAssertionCache, reuseKey, textBytes, type ReusableIdentity } from '../../../src/forward/assertion-cache.ts';
import type { AssertionSigner } from '../../../src/forward/signing-keys.ts';

const signer = { alg: 'HS256', kid: undefined, key: {} as CryptoKey } satisfies AssertionSigner;
const entry = (assertion: string, omitted: readonly string[] = []): ReusableIdentity => {
  const headers = [['x-verified-sub', 'u'], ['x-verified-assertion', assertion]] as const;
  return { headers, omitted, signer, mintedAt: 0, bytes: textBytes(headers, omitted) };
};
const target = (path: string) => ({ method: 'GET', host: 'o.example', path, query: '?a=1' });

describe('the assertion cache', () => {
  it('keys by route, method, Host, path, query and the token text, each one changing the key', () => {
    const base = reuseKey('r', target('/a'), 'tok');
    expect(new Set([base, reuseKey('s', target('/a'), 'tok'), reuseKey('r', { ...target('/a'), method: 'POST' }, 'tok'),
      reuseKey('r', { ...target('/a'), host: 'p.example' }, 'tok'), reuseKey('r', target('/b'), 'tok'), reuseKey('r', target('/a'), 'tok2'),
      reuseKey('r', { ...target('/a'), query: '?a=2' }, 'tok'), reuseKey('r', { ...target('/a'), query: '' }, 'tok')]).size).toBe(8);
  });

  it('counts keys, header names and values, and omitted names as its size', () => {
    const cache = newAssertionCache({ maxEntries: 10, maxSize: 10_000 });
    cache.set('k1', entry('x'.repeat(100), ['x-verified-big']));
    expect(cache.size).toBe(2 + 'x-verified-sub'.length + 1 + 'x-verified-assertion'.length + 100 + 'x-verified-big'.length);
    cache.delete('k1');
    expect([cache.entries, cache.size]).toEqual([0, 0]);
  });

  it('drops the oldest entries past its text cap, and keeps nothing larger than the cap', () => {
    const cache = newAssertionCache({ maxEntries: 100, maxSize: 1_000 });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, entry('x'.repeat(200)));
    expect(cache.size).toBeLessThanOrEqual(1_000);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k9')).toBeDefined();
    const before = [cache.entries, cache.size];
    cache.set('huge', entry('x'.repeat(2_000)));
    expect(cache.get('huge')).toBeUndefined();
    // An entry refused for its size pushes nothing out.
    expect([cache.entries, cache.size]).toEqual(before);
  });

  it('drops the oldest entries past its entry cap', () => {
    const cache = newAssertionCache({ maxEntries: 3, maxSize: 1 << 20 });
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, entry('a'));
    expect(cache.entries).toBe(3);
    expect(['k0', 'k1', 'k2', 'k3', 'k4'].map((k) => cache.get(k) !== undefined)).toEqual([false, false, true, true, true]);
  });
});
