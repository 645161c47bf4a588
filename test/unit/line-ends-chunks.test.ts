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
