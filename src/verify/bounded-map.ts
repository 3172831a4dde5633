/**
 * A Map capped by its number of entries and by a size the caller measures (the length of the texts it
 * holds), oldest insertion evicted first. Not LRU on purpose: a hit costs one Map read and no reordering;
 * a hot entry pushed out is rebuilt once per turnover. Serves the verified-token cache and the reused
 * assertions, whose keys are client-chosen and whose sizes vary by kilobytes.
 */
export interface BoundedMapLimits {
  maxEntries: number;
  /** The most the sizes of all entries (sizeOf) may add up to. */
  maxSize: number;
}

export class BoundedMap<V> {
  readonly #entries = new Map<string, V>();
  readonly #limits: BoundedMapLimits;
  /** An entry's size; called again on removal, so it must give the same figure for the same entry. */
  readonly #sizeOf: (key: string, value: V) => number;
  #size = 0;
  /** Kept only from one eviction to the next set or delete: see #oldest. */
  #evictionOrder: MapIterator<string> | undefined;

  constructor(limits: BoundedMapLimits, sizeOf: (key: string, value: V) => number) {
    this.#limits = limits;
    this.#sizeOf = sizeOf;
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Keeps the entry, unless it alone is over the size cap (or the map may hold nothing): then it is not kept. */
  set(key: string, value: V): void {
    const size = this.#sizeOf(key, value);
    if (size > this.#limits.maxSize || this.#limits.maxEntries === 0) return;
    this.#remove(key);
    this.#entries.set(key, value);
    this.#size += size;
    let evicted = false;
    while (this.#entries.size > this.#limits.maxEntries || this.#size > this.#limits.maxSize) {
      const oldest = this.#oldest();
      if (oldest === undefined) break;
      this.#remove(oldest);
      evicted = true;
    }
    if (!evicted) this.#evictionOrder = undefined;
  }

  /**
   * The oldest entry's key, from one iterator kept across calls. A Map iterator is live (it skips entries
   * deleted before it reaches them, and reaches entries added after it was made), and every key it hands out
   * is deleted at once, so it always stands at the oldest entry. A fresh iterator per eviction would step over
   * every slot the evicted entries left at the front of the Map's table before reaching a live one: with
   * 10,000 entries turning over, that cost 4.6 µs per insertion against 0.6 (load 5-7, a scratch benchmark of 92e473b; BENCHMARKS.md, Decisions).
   * But an iterator that stands still pins every hash table the Map outgrows meanwhile (V8 links an obsolete
   * table to its successor, entries and all, until the iterator moves), so a map under its caps whose entries
   * are replaced or deleted would keep all of them alive: it is kept only while every set evicts (a full map
   * turning over), and dropped by a set that evicts nothing and by a delete.
   */
  #oldest(): string | undefined {
    let next = this.#evictionOrder?.next();
    // An iterator that once reported the end stays there (ECMA-262): start another.
    if (next === undefined || next.done) next = (this.#evictionOrder = this.#entries.keys()).next();
    return next.done ? undefined : next.value;
  }

  /** Whether keeping an entry of this size under a new key would evict another (or not be kept at all). */
  wouldEvict(size: number): boolean {
    return this.#entries.size >= this.#limits.maxEntries || this.#size + size > this.#limits.maxSize;
  }

  delete(key: string): void {
    this.#remove(key);
    this.#evictionOrder = undefined;
  }

  #remove(key: string): void {
    const value = this.#entries.get(key);
    if (value === undefined) return;
    this.#entries.delete(key);
    this.#size -= this.#sizeOf(key, value);
  }

  get entries(): number {
    return this.#entries.size;
  }

  /** The sum of the kept entries' sizes. */
  get size(): number {
    return this.#size;
  }
}
