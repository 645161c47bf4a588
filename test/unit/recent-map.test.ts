import { it } from 'node:test';
import assert from 'node:assert/strict';
import { RecentCache, takeRecent } from '../../src/util/recent-map.js';

it('takeRecent moves a hit to the end, so the least recently used comes first', () => {
  const map = new Map([
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
  ]);
  assert.equal(takeRecent(map, 1), 'a');
  assert.deepEqual([...map.keys()], [2, 3, 1]);
  assert.equal(takeRecent(map, 9), undefined);
  assert.deepEqual([...map.keys()], [2, 3, 1], 'a miss moves nothing');
});

it('RecentCache keeps what was used since the last turn, drops what was not used for two, and stays within its bound', () => {
  const cache = new RecentCache<number, string>(4);
  cache.set(1, 'a');
  cache.set(2, 'b'); // the young half is full: 1 and 2 are the old generation now
  assert.equal(cache.get(1), 'a'); // back to the young generation
  cache.set(3, 'c'); // full again: 1 and 3 are the old generation, 2 (unused for two turns) went
  assert.equal(cache.get(2), undefined);
  assert.equal(cache.get(3), 'c');
  assert.equal(cache.get(1), 'a');
  cache.set(1, 'other');
  assert.equal(cache.get(1), 'a', 'a kept value is not replaced');
  for (let i = 10; i < 1000; i++) {
    cache.set(i, String(i));
    assert.ok(cache.size <= 4);
  }
  const weighed = new RecentCache<number, Buffer>(100, (b) => b.length);
  for (let i = 0; i < 50; i++) weighed.set(i, Buffer.alloc(10));
  assert.ok(weighed.size <= 10);
  const none = new RecentCache<number, string>(0);
  none.set(1, 'a');
  assert.equal(none.get(1), undefined);
});

it('RecentCache.delete forgets a key in either generation and frees its weight in the young one at once', () => {
  const cache = new RecentCache<number, string>(8, (v) => v.length);
  cache.set(1, 'aa');
  cache.set(2, 'bb');
  // 4 of the young half's 4: the turn came; 1 and 2 are old now.
  cache.set(3, 'cc');
  cache.delete(1);
  assert.equal(cache.get(1), undefined, 'an old entry stayed');
  cache.delete(3);
  assert.equal(cache.get(3), undefined, 'a young entry stayed');
  assert.equal(cache.size, 1);
  // 3's weight is free again: 'ddd' (3) does not turn the young half (3 < 4)…
  cache.set(4, 'ddd');
  assert.equal(cache.get(2), 'bb', 'a turn came early: the weight of a deleted entry was still counted');
  cache.delete(99);
  assert.equal(cache.size, 2);
});
