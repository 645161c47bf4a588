/**
 * src/store/sqlite/kept-bytes.ts: a body kept for the parse, copied into reused buffers, must read
 * back as exactly the bytes pushed, across growth and reuse; the free list stays bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeptBytes, keptBytesFreeList } from '../../src/store/sqlite/kept-bytes.js';

/** Bytes that differ from chunk to chunk and position to position (cheaper than random bytes). */
let seed = 1;
function bytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

function chunksOf(total: number, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0, done = 0; done < total; i++) {
    const n = Math.min(sizes[i % sizes.length]!, total - done);
    out.push(bytes(n));
    done += n;
  }
  return out;
}

// First in the file: it counts what the free list gains, from empty.
test('growth stops at the limit: a body kept up to 4 MiB from past its 2 MiB slot leaves one buffer of 4 MiB', () => {
  const limit = 4 * 1024 * 1024;
  assert.deepEqual(keptBytesFreeList(), { buffers: 0, bytes: 0 });
  // As TempBlob does once a body outgrows its slot: the slot's bytes, then 64 KiB reads while the
  // body is within the limit, then release (the body went on past it).
  const kept = new KeptBytes(limit, limit);
  const chunks = [bytes(2 * 1024 * 1024 + 100), ...chunksOf(limit - (2 * 1024 * 1024 + 100), [65_536])];
  for (const c of chunks) kept.push(c);
  assert.equal(kept.size, limit);
  assert.ok(kept.bytes().equals(Buffer.concat(chunks)));
  kept.release();
  // Doubling from the slot's 2 MiB past the limit left 2 + 4 + 8 MB here (14 MB held for good).
  assert.deepEqual(keptBytesFreeList(), { buffers: 1, bytes: limit });
  // Without a first size, growth still stops at the limit: from the free 4 MiB buffer to 5 MB, not 8 MiB.
  const bigger = new KeptBytes(5_000_000);
  const more = chunksOf(5_000_000, [65_536]);
  for (const c of more) bigger.push(c);
  assert.ok(bigger.bytes().equals(Buffer.concat(more)));
  assert.equal(bigger.bytes().buffer.byteLength, 5_000_000);
  bigger.release();
});

test('kept bytes equal the chunks pushed, whatever their sizes, as the buffer grows', () => {
  for (const total of [0, 1, 65_536, 524_288, 524_289, 1_048_576 + 80, 3_000_000]) {
    const chunks = chunksOf(total, [65_536, 1, 7, 100_000, 3]);
    const kept = new KeptBytes();
    for (const c of chunks) kept.push(c);
    assert.equal(kept.size, total);
    assert.ok(kept.bytes().equals(Buffer.concat(chunks)), `total ${total}`);
    kept.release();
  }
});

test('a released buffer is reused by the next body, which reads back only its own bytes', () => {
  const first = new KeptBytes();
  const a = chunksOf(1_100_000, [65_536]);
  for (const c of a) first.push(c);
  first.release();
  const before = keptBytesFreeList();
  assert.ok(before.buffers >= 1);
  const second = new KeptBytes();
  const b = chunksOf(300_000, [65_536]);
  for (const c of b) second.push(c);
  assert.equal(keptBytesFreeList().buffers, before.buffers - 1, 'taken from the free list, not made');
  assert.ok(second.bytes().equals(Buffer.concat(b)));
  second.release();
  assert.equal(keptBytesFreeList().buffers, before.buffers);
});

test('the free list keeps at most 16 MiB, however many bodies were kept at once', () => {
  const many = Array.from({ length: 40 }, () => new KeptBytes());
  const body = bytes(1_200_000);
  for (const k of many) k.push(body);
  for (const k of many) k.release();
  assert.ok(keptBytesFreeList().bytes <= 16 * 1024 * 1024, `${keptBytesFreeList().bytes} bytes free`);
  assert.ok(keptBytesFreeList().buffers >= 4);
});
