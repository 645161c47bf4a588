/** The SQLite store's header-block cache (header-cache.ts): bounded in bytes, oldest out first. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderCache } from '../../src/store/sqlite/header-cache.js';

it('keeps header blocks up to its byte bound, dropping the least recently used first', () => {
  const cache = new HeaderCache(800);
  const block = (n: number): Buffer => Buffer.alloc(100, n);
  for (let id = 1; id <= 8; id++) cache.set(id, block(id));
  assert.equal(cache.size, 8);
  assert.ok(cache.get(1)!.equals(block(1)), 'a hit makes 1 the newest');
  cache.set(9, block(9));
  assert.equal(cache.size, 8);
  assert.equal(cache.get(2), undefined, 'the oldest (2) went');
  assert.ok(cache.get(1) && cache.get(9));
  // A block over an eighth of the bound is not kept; nor is a second copy of an id.
  cache.set(10, Buffer.alloc(101));
  assert.equal(cache.get(10), undefined);
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
