/**
 * How big writes are cut into store calls (src/imap/commands/chunks.ts): EXPUNGE's chunks count
 * the messages they remove, not the candidates they name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markedChunksOf } from '../../src/imap/commands/chunks.js';

test('markedChunksOf: at most maxMarked marked items and maxItems items per chunk, in order, nothing lost', () => {
  const items = Array.from({ length: 23 }, (_, i) => 23 - i);
  const marked = (n: number): boolean => n % 3 === 0;
  const chunks = [...markedChunksOf(items, marked, 2, 10)];
  assert.deepEqual(chunks.flat(), items, 'items lost, repeated or reordered');
  for (const c of chunks) {
    assert.ok(c.length > 0 && c.length <= 10, `chunk of ${c.length}`);
    assert.ok(c.filter(marked).length <= 2, `chunk with ${c.filter(marked).length} marked`);
  }
  // A run with few marked items is one chunk up to maxItems: 400 candidates, 3 \Deleted, is one call.
  const few = [...markedChunksOf(Array.from({ length: 400 }, (_, i) => i), (n) => n === 5 || n === 200 || n === 399)];
  assert.deepEqual(
    few.map((c) => c.length),
    [400],
  );
  // All marked: chunks of maxMarked, as chunksOf cut them before.
  const all = [...markedChunksOf(Array.from({ length: 600 }, (_, i) => i), () => true)];
  assert.deepEqual(
    all.map((c) => c.length),
    [250, 250, 100],
  );
  // None marked: chunks of maxItems.
  const none = [...markedChunksOf(Array.from({ length: 2500 }, (_, i) => i), () => false)];
  assert.deepEqual(
    none.map((c) => c.length),
    [1000, 1000, 500],
  );
  assert.deepEqual([...markedChunksOf([], () => true)], []);
});

/** markedChunksOf as it was written first (runs grown item by item): the reference for the cut by index. */
function* grownChunks<T>(items: readonly T[], marked: (item: T) => boolean, maxMarked: number, maxItems: number): Generator<T[]> {
  let current: T[] = [];
  let count = 0;
  for (const item of items) {
    const m = marked(item);
    if (current.length === maxItems || (m && count === maxMarked)) {
      yield current;
      current = [];
      count = 0;
    }
    current.push(item);
    if (m) count++;
  }
  if (current.length > 0) yield current;
}

test('markedChunksOf cuts as runs grown item by item did, and a single run is the caller\'s array, not a copy', () => {
  let seed = 7;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 300; round++) {
    const items = Array.from({ length: Math.floor(random() * 60) }, (_, i) => i);
    const share = random();
    const marks = new Set(items.filter(() => random() < share));
    const maxMarked = 1 + Math.floor(random() * 6);
    const maxItems = 1 + Math.floor(random() * 20);
    const got = [...markedChunksOf(items, (n) => marks.has(n), maxMarked, maxItems)];
    assert.deepEqual(got, [...grownChunks(items, (n) => marks.has(n), maxMarked, maxItems)], `round ${round}`);
  }
  // EXPUNGE of a 1,000-message mailbox with a few \Deleted: one store call with the candidates as they are.
  const candidates = Array.from({ length: 1000 }, (_, i) => 1000 - i);
  const chunks = [...markedChunksOf(candidates, (uid) => uid % 200 === 0)];
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0], candidates, 'the one run is the array itself');
});
