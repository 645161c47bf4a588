/**
 * ByteQueue (the framer's FIFO of received bytes): reads by logical offset agree with one
 * concatenated buffer whatever the chunk sizes, slices handed out never change afterwards, and small
 * chunks are copied together — a client sending a byte per TCP segment must not make the queue hold
 * a Buffer per byte (~200 bytes of heap each) — a chunk into an empty queue stays as it came.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteQueue } from '../../src/imap/wire/byte-queue.js';

test('ByteQueue answers as one concatenated buffer would, and slices it handed out never change', async () => {
  const fc = (await import('fast-check')).default;
  const op = fc.oneof(
    fc.record({ push: fc.integer({ min: 0, max: 3000 }), seed: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ take: fc.integer({ min: 0, max: 5000 }) }),
    fc.record({ find: fc.integer({ min: 0, max: 255 }), from: fc.integer({ min: 0, max: 6000 }) }),
    fc.record({ at: fc.integer({ min: 0, max: 6000 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const q = new ByteQueue();
      let model = Buffer.alloc(0);
      const handedOut: Array<[Buffer, Buffer]> = [];
      let n = 0;
      for (const o of ops) {
        if ('push' in o) {
          const chunk = Buffer.alloc(o.push);
          for (let i = 0; i < chunk.length; i++) chunk[i] = (o.seed + n++) & 0xff;
          const queued = model.length > 0;
          q.push(chunk);
          model = Buffer.concat([model, chunk]);
          // A small chunk behind others is copied: a source reusing its buffer cannot change it.
          if (queued && chunk.length < 1024) chunk.fill(0);
        } else if ('take' in o) {
          const parts = q.takeChunks(o.take);
          const got = Buffer.concat(parts);
          const want = model.subarray(0, Math.min(o.take, model.length));
          assert.ok(got.equals(want));
          for (const p of parts) handedOut.push([p, Buffer.from(p)]);
          model = model.subarray(want.length);
        } else if ('find' in o) {
          const want = o.from >= model.length ? -1 : model.indexOf(o.find, o.from);
          assert.equal(q.indexOf(o.find, o.from), want);
        } else if (o.at < model.length) {
          assert.equal(q.byteAt(o.at), model[o.at]);
        }
        assert.equal(q.length, model.length);
      }
      for (const [slice, copy] of handedOut) assert.ok(slice.equals(copy), 'a handed-out slice changed');
    }),
    { numRuns: 400 },
  );
});

test('ByteQueue copies small chunks together: 100,000 one-byte pushes come out as a few slices', () => {
  const q = new ByteQueue();
  const sent = Buffer.alloc(100_000);
  for (let i = 0; i < sent.length; i++) {
    sent[i] = (i * 31) & 0xff;
    q.push(Buffer.from([sent[i]!]));
    if (i === 50_000) q.takeChunks(10); // taking from the front does not stop the gathering
  }
  const parts = q.takeChunks(q.length);
  assert.ok(parts.length <= 30, `${parts.length} slices held for 100,000 one-byte pushes (4 KiB gatherings)`);
  assert.ok(Buffer.concat(parts).equals(sent.subarray(10)));
});
