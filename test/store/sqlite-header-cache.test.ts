/** The SQLite store's header-block cache (header-cache.ts): bounded in bytes, the least recently used out first (by generations). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderCache } from '../../src/store/sqlite/header-cache.js';

it('keeps header blocks up to about its byte bound: a block used since the last turn stays, one unused for two turns goes', () => {
  const cache = new HeaderCache(800);
  const block = (n: number): Buffer => Buffer.alloc(100, n);
  // 400 bytes fill the young half: 1–4 become the old generation, 5–8 the young one, then old.
  for (let id = 1; id <= 8; id++) cache.set(id, block(id));
  assert.equal(cache.size, 4, '1–4 went when 5–8 filled the second turn');
  assert.equal(cache.get(1), undefined);
  assert.ok(cache.get(5)!.equals(block(5)), 'a hit in the old generation brings 5 back to the young one');
  for (let id = 9; id <= 11; id++) cache.set(id, block(id));
  assert.ok(cache.get(5), '5, used during this turn, stays');
  assert.equal(cache.get(6), undefined, '6, unused for two turns, went');
  assert.ok(cache.get(9) && cache.get(11));
  // A block over an eighth of the bound is not kept; nor is a second copy of an id.
  cache.set(12, Buffer.alloc(101));
  assert.equal(cache.get(12), undefined);
  cache.set(9, block(0));
  assert.ok(cache.get(9)!.equals(block(9)));
});

it('holds a copy of a view into a larger buffer (not the whole body behind it), and nothing at 0 bytes', () => {
  const cache = new HeaderCache(1024);
  const body = Buffer.alloc(4096, 7);
  cache.set(1, body.subarray(0, 64));
  const kept = cache.get(1)!;
  assert.equal(kept.length, 64);
  assert.equal(kept.buffer.byteLength < 4096 || kept.byteOffset !== body.byteOffset, true);
  body[0] = 1;
  assert.equal(kept[0], 7, 'a copy: the body changing does not change it');
  const none = new HeaderCache(0);
  none.set(1, Buffer.from('Subject: x\r\n\r\n'));
  assert.equal(none.get(1), undefined);
});
