/** chunksAreCrlf (src/store/line-ends.ts): isCrlf over chunk boundaries, as a table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunksAreCrlf, crlfContent, isCrlf } from '../../src/store/line-ends.js';

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

test('crlfContent keeps the size a stream announces (an IMAP literal), as a lower bound of what it yields', async () => {
  const literal = {
    size: 8,
    async *[Symbol.asyncIterator]() {
      yield Buffer.from('a\nb\r\n');
      yield Buffer.from('cd\n');
    },
  };
  const out = crlfContent(literal);
  assert.ok(!Buffer.isBuffer(out));
  assert.equal((out as { size?: unknown }).size, 8);
  const chunks: Buffer[] = [];
  for await (const c of out as AsyncIterable<Buffer>) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString(), 'a\r\nb\r\ncd\r\n');
  // A stream that announces nothing announces nothing after it either.
  const plain = crlfContent((async function* () { yield Buffer.from('x\n'); })());
  assert.equal((plain as { size?: unknown }).size, undefined);
});

test('crlfContent copies small chunks together: a literal trickled a byte at a time reaches the store in a few chunks, large ones as they are', async () => {
  const big = Buffer.alloc(50_000, 0x42);
  const sent: Buffer[] = [];
  for (let i = 0; i < 20_000; i++) sent.push(Buffer.from([0x41 + (i % 26)]));
  sent.push(big);
  for (let i = 0; i < 100; i++) sent.push(Buffer.from('x\r\n'));
  async function* source(): AsyncGenerator<Buffer> {
    yield* sent;
  }
  const out: Buffer[] = [];
  for await (const chunk of crlfContent(source()) as AsyncIterable<Buffer>) out.push(chunk);
  assert.ok(Buffer.concat(out).equals(Buffer.concat(sent)), 'the same bytes in the same order');
  assert.ok(out.length <= 4, `${out.length} chunks`);
  assert.ok(out.includes(big), 'a large chunk passes as it is');
});
