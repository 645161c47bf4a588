/**
 * Dense numbers (0, 1, 2, ...) for the distinct keys THREAD meets: the store's integer keys in an
 * open-addressing table of typed arrays, strings in a Map. A JavaScript Map of 100,000 numbers
 * cost THREAD more than everything else it did on a large mailbox (measured: the growth and
 * rehashing of its entries), where this table is two array reads per key.
 */
export interface Numbering<K> {
  /** The key's number, given the next free one when new. */
  number(key: K): number;
  /** The key's number, or -1 when it was never numbered. */
  find(key: K): number;
  readonly size: number;
}

/** For positive integer keys below 2^32, at most `most` distinct ones. */
class IntegerNumbering implements Numbering<number> {
  size = 0;
  private readonly keys: Uint32Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  constructor(most: number) {
    let capacity = 16;
    while (capacity < 2 * most) capacity *= 2;
    this.keys = new Uint32Array(capacity); // 0: empty (keys are positive)
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  private slot(key: number): number {
    let i = Math.imul(key, 0x9e3779b1) & this.mask;
    while (this.keys[i] !== 0 && this.keys[i] !== key) i = (i + 1) & this.mask;
    return i;
  }

  number(key: number): number {
    const i = this.slot(key);
    if (this.keys[i] === 0) {
      this.keys[i] = key;
      this.values[i] = this.size++;
    }
    return this.values[i]!;
  }

  find(key: number): number {
    const i = this.slot(key);
    return this.keys[i] === 0 ? -1 : this.values[i]!;
  }
}

class MapNumbering<K> implements Numbering<K> {
  private readonly map = new Map<K, number>();
  get size(): number {
    return this.map.size;
  }
  number(key: K): number {
    let n = this.map.get(key);
    if (n === undefined) this.map.set(key, (n = this.map.size));
    return n;
  }
  find(key: K): number {
    return this.map.get(key) ?? -1;
  }
}

/** Integer keys must lie in 1..2^32-1 (the store's interned ids; 0 means none and is never numbered). */
export function integerNumbering(most: number): Numbering<number> {
  return new IntegerNumbering(most);
}

export function stringNumbering(): Numbering<string> {
  return new MapNumbering<string>();
}
