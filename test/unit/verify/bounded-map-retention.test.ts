/**
 * BoundedMap's caps bound the memory it keeps alive, not only what it counts: an entry deleted or replaced is
 * garbage. A Map iterator kept across calls pins every hash table the Map has outgrown since the iterator
 * last moved (V8 links an obsolete table to its successor, entries and all), so a map under its caps, where
 * nothing is evicted and the iterator never moves, would keep every value it ever replaced.
 */
import { expect, it } from 'vitest';
import { BoundedMap } from '../../../src/verify/bounded-map.ts';

const gc = (globalThis as { gc?: () => void }).gc;
// A WeakRef's target stays alive until the end of the job that made it: collect from a later task.
const collect = async () => {
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc!();
  }
};

it('workerd runs these tests with --expose-gc (vitest.config.ts), so the test below can collect', () => {
  expect(typeof gc).toBe('function');
});

it('keeps no value alive once it is replaced, though the map never reaches its caps (the assertion cache re-minting after reuse_seconds)', async () => {
  const map = new BoundedMap<object>({ maxEntries: 100, maxSize: 1_000_000 }, () => 1);
  const replaced: WeakRef<object>[] = [];
  for (let round = 1; round <= 2000; round++) {
    for (const key of ['a', 'b', 'c']) {
      const value = { round };
      if (round <= 20) replaced.push(new WeakRef(value));
      map.set(key, value);
    }
  }
  expect(map.entries).toBe(3);
  await collect();
  expect(replaced.filter((ref) => ref.deref() !== undefined).length).toBe(0);
});
