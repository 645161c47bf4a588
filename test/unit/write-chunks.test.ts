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
