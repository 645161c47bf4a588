/** chunksAreCrlf (src/store/line-ends.ts): isCrlf over chunk boundaries, as a table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunksAreCrlf, isCrlf } from '../../src/store/line-ends.js';

test('chunksAreCrlf agrees with isCrlf of the joined bytes, wherever the chunks are cut', () => {
  const samples = ['', 'a', 'a\r\n', 'a\r\nb\r\n', 'a\nb', 'a\rb', '\r\n\r\n', '\r', '\n', 'x\r\r\n', 'x\r\n\n', '\0\r\n\0'];
  for (const text of samples) {
    const bytes = Buffer.from(text, 'latin1');
    const want = isCrlf(bytes);
    // Every way of cutting into two and three chunks (empty chunks included).
    for (let i = 0; i <= bytes.length; i++) {
      assert.equal(chunksAreCrlf([bytes.subarray(0, i), bytes.subarray(i)]), want, `${JSON.stringify(text)} cut at ${i}`);
      for (let j = i; j <= bytes.length; j++) {
        assert.equal(chunksAreCrlf([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]), want, `${JSON.stringify(text)} cut at ${i},${j}`);
      }
    }
  }
});

/** The rule isCrlf implements, byte by byte. */
function crlfByLoop(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a && (i === 0 || b[i - 1] !== 0x0d)) return false;
    if (b[i] === 0x0d && b[i + 1] !== 0x0a) return false;
  }
  return true;
}

test('isCrlf agrees with a byte-by-byte check, with bare CR or LF anywhere, across its 64 KiB scan slices', () => {
  const SLICE = 64 * 1024;
  const base = Buffer.from('a line of text\r\n'.repeat(Math.ceil((3 * SLICE) / 16))).subarray(0, 3 * SLICE);
  assert.equal(isCrlf(base), true);
  let seed = 3;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const spots = [0, 1, SLICE - 2, SLICE - 1, SLICE, SLICE + 1, 2 * SLICE - 1, 2 * SLICE, base.length - 2, base.length - 1];
  for (let i = 0; i < 300; i++) spots.push(rand(base.length));
  for (const at of spots) {
    for (const byte of [0x0a, 0x0d, 0x41]) {
      const b = Buffer.from(base);
      b[at] = byte;
      assert.equal(isCrlf(b), crlfByLoop(b), `byte ${byte} at ${at}`);
      // And as the last byte of a buffer cut there (a CR at the very end is bare).
      const cut = b.subarray(0, at + 1);
      assert.equal(isCrlf(cut), crlfByLoop(cut), `cut after ${at}, byte ${byte}`);
    }
  }
  // A CRLF split by the slice boundary is a proper line end.
  const split = Buffer.from(base);
  split.fill(0x41, SLICE - 20, SLICE + 20);
  split[SLICE - 1] = 0x0d;
  split[SLICE] = 0x0a;
  assert.equal(isCrlf(split), true);
  split[SLICE] = 0x41;
  assert.equal(isCrlf(split), false);
});
