/** BoundedMap's eviction order (oldest insertion first) through deletions, re-insertions and an emptied map. */
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../../src/verify/bounded-map.ts';

const keysOf = (map: BoundedMap<number>, candidates: string[]) => candidates.filter((key) => map.get(key) !== undefined);
const names = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe('BoundedMap', () => {
  it('evicts the oldest insertion first, skipping entries deleted before their turn', () => {
    const map = new BoundedMap<number>({ maxEntries: 3, maxSize: 1000 }, () => 1);
    for (const key of ['a', 'b', 'c']) map.set(key, 1);
    map.delete('a');
    map.set('d', 1); // 3 entries: nothing to evict
    map.set('e', 1); // b goes
    expect(keysOf(map, ['a', 'b', 'c', 'd', 'e'])).toEqual(['c', 'd', 'e']);
    map.delete('d');
    map.set('f', 1);
    map.set('g', 1); // c goes, then d is already gone, so e stays
    expect(keysOf(map, ['c', 'd', 'e', 'f', 'g'])).toEqual(['e', 'f', 'g']);
  });

  it('counts a re-inserted key as new', () => {
    const map = new BoundedMap<number>({ maxEntries: 2, maxSize: 1000 }, () => 1);
    map.set('a', 1);
    map.set('b', 1);
    map.set('a', 2); // a is now the newest
    map.set('c', 1); // b goes
    expect(keysOf(map, ['a', 'b', 'c'])).toEqual(['a', 'c']);
    expect(map.get('a')).toBe(2);
  });

  it('keeps its bounds after the map was emptied and refilled, many times over', () => {
    const map = new BoundedMap<number>({ maxEntries: 4, maxSize: 1000 }, () => 1);
    for (let round = 0; round < 5; round++) {
      for (const key of names(10)) map.set(`${round}-${key}`, 1);
      expect(map.entries).toBe(4);
      expect(keysOf(map, names(10).map((key) => `${round}-${key}`))).toEqual(['k6', 'k7', 'k8', 'k9'].map((key) => `${round}-${key}`));
      for (const key of names(10)) map.delete(`${round}-${key}`);
      expect(map.entries).toBe(0);
      expect(map.size).toBe(0);
    }
  });

  it('evicts by size as well as by count, oldest first', () => {
    const map = new BoundedMap<number>({ maxEntries: 100, maxSize: 10 }, (key) => key.length);
    map.set('aaaa', 1);
    map.set('bbbb', 1);
    map.set('cccc', 1); // 12 > 10: aaaa goes
    expect(keysOf(map, ['aaaa', 'bbbb', 'cccc'])).toEqual(['bbbb', 'cccc']);
    expect(map.size).toBe(8);
    map.set('x'.repeat(11), 1); // alone over the cap: not kept, nothing evicted
    expect(map.entries).toBe(2);
  });

  it('agrees with a plain list of keys in insertion order over many turnovers, deletions included', () => {
    const map = new BoundedMap<number>({ maxEntries: 100, maxSize: 1_000_000 }, () => 1);
    const model: string[] = [];
    const all = names(5000);
    all.forEach((key, i) => {
      map.set(key, i);
      model.push(key);
      if (model.length > 100) model.shift();
      // Now and then a key inserted 50 ago leaves early (a rotated key, an expired token).
      const early = all[i - 50];
      if (i % 7 === 3 && early !== undefined) {
        map.delete(early);
        const at = model.indexOf(early);
        if (at !== -1) model.splice(at, 1);
      }
    });
    expect(map.entries).toBe(model.length);
    expect(keysOf(map, all)).toEqual(model);
  });
});
