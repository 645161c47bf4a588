/**
 * Least-recently-used order on a plain Map: a Map iterates in insertion order, so moving an entry
 * to the end on every use leaves the least recently used one first, where a bounded cache drops
 * from. Used by the STATUS counts (mailbox-status.ts) and delivery's mailbox lookups
 * (src/delivery/mailbox-lookups.ts); the caches hit per message use RecentCache.
 */

/** The value for `key`, marked as the most recently used (undefined, and nothing moved, when absent). */
export function takeRecent<K, V>(map: Map<K, V>, key: K): V | undefined {
  const value = map.get(key);
  if (value !== undefined) {
    map.delete(key);
    map.set(key, value);
  }
  return value;
}

/**
 * A bounded cache of recently used entries in two generations, for caches hit many times per
 * command (a FETCH page asks its 100 messages' structures and header blocks): a hit in the young
 * generation moves nothing, where takeRecent's delete-and-set costs ~100 ns on a Map of thousands
 * and leaves it holes to rehash. New entries and hits in the old generation go to the young one;
 * when the young one holds half the bound, it becomes the old one and the old one is dropped whole.
 * So an entry used since the last turn always stays; one unused for two turns has gone. Bounded by
 * `maxWeight` in total (weights default to 1 per entry; the header cache weighs bytes).
 */
export class RecentCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngWeight = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged === undefined) return undefined;
    this.old.delete(key);
    this.addYoung(key, aged);
    return aged;
  }

  /** Keeps `value` unless `key` is already kept (the cached values never change): then that one counts as used. */
  set(key: K, value: V): void {
    if (this.maxWeight <= 0 || this.get(key) !== undefined) return;
    this.addYoung(key, value);
  }

  /** Forgets `key` (its value can no longer be asked for): its room is free again at once. */
  delete(key: K): void {
    const young = this.young.get(key);
    if (young !== undefined) {
      this.young.delete(key);
      this.youngWeight -= this.weigh(young);
    } else this.old.delete(key);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  private addYoung(key: K, value: V): void {
    this.young.set(key, value);
    this.youngWeight += this.weigh(value);
    if (this.youngWeight * 2 >= this.maxWeight) {
      this.old = this.young;
      this.young = new Map();
      this.youngWeight = 0;
    }
  }
}
