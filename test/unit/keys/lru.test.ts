import { describe, expect, it } from 'vitest';
import { Lru } from '../../../src/keys/lru.ts';

describe('Lru', () => {
  it('forgets the least recently used entry beyond its capacity', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual([1, undefined, 3]);
    expect(lru.size).toBe(2);
  });

  it('replacing a value does not grow it', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('a', 2);
    expect([lru.get('a'), lru.size]).toEqual([2, 1]);
  });
});
