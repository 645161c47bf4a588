/**
 * Least-recently-used order on a plain Map: a Map iterates in insertion order, so moving an entry
 * to the end on every use leaves the least recently used one first, where a bounded cache drops
 * from. Shared by the store's small caches (structures, header blocks, STATUS counts).
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

/** Drops the least recently used entries until at most `max` are left. */
export function trimOldest<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
