/**
 * src/store/sqlite/hash-thread.ts: a new body file's SHA-256 is computed on the store's hash thread
 * from copies of the pieces TempBlob writes, in buffers the thread gives back. The digest must be the
 * one of exactly the bytes written — whatever the chunking, with bodies growing and buffers reused
 * by other bodies at the same time — and a thread that dies fails the bodies it had begun (never a
 * digest of other bytes), after which digests are computed on the event loop.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { tempDirs } from '../helpers/temp-dirs.js';
import { BlobFiles, KEEP_FOR_PARSE_MAX, type TempBlob } from '../../src/store/sqlite/blob-files.js';
import { HashThread } from '../../src/store/sqlite/hash-thread.js';
import { StoreError } from '../../src/store/errors.js';

const folder = tempDirs('postroom-hash-thread-');

let seed = 7;
function bytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

function chunksOf(body: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < body.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, body.length - at);
    out.push(body.subarray(at, at + n));
    at += n;
  }
  return out;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('SqliteStore body files: SHA-256 on the hash thread', () => {
  it('gives the digest of the bytes written, for every size and chunking (kept, past the keep limit, empty)', async () => {
    const thread = new HashThread();
    const files = new BlobFiles(folder(), undefined, thread);
    try {
      for (const size of [0, 1, 65_536, 1_048_576, 1_048_577, 3_000_001, KEEP_FOR_PARSE_MAX, KEEP_FOR_PARSE_MAX + 1, KEEP_FOR_PARSE_MAX + 1_500_000]) {
        for (const sizes of [[65_536], [1, 7, 100_000, 3], [1_048_576 + 5]]) {
          const body = bytes(size);
          const temp = await files.createTemp();
          for (const c of chunksOf(body, sizes)) await temp.write(c);
          const done = await temp.finish();
          assert.equal(done.sha256.toString('hex'), sha(body), `size ${size}, chunks ${sizes.join('/')}`);
          assert.ok(readFileSync(temp.path).equals(body), 'the file holds the bytes');
          if (size <= KEEP_FOR_PARSE_MAX) assert.ok(done.body?.equals(body), 'the kept bytes are the body');
          else assert.equal(done.body, undefined);
          done.release();
          rmSync(temp.path);
        }
      }
      assert.equal(thread.active, 0, 'every job answered');
    } finally {
      await thread.close();
    }
  });

  it('bodies written side by side, growing, abandoned and reusing each other\'s buffers each get their own digest', async () => {
    const thread = new HashThread();
    const files = new BlobFiles(folder(), undefined, thread);
    try {
      for (let round = 0; round < 4; round++) {
        const bodies = [300_000, 1_200_000, 2_600_000, 700_000, 5_000_000, 900_000].map((n) => bytes(n + round));
        const temps: TempBlob[] = [];
        for (const _ of bodies) temps.push(await files.createTemp());
        // A slow thread: the ranges it is sent are read only after every body has grown past them.
        const resume = round % 2 === 0 ? thread.pauseForTest() : () => undefined;
        const chunked = bodies.map((b, i) => chunksOf(b, [65_536 - i * 1000, 4096 + i]));
        // Round robin: every body grows while the others do, so buffers are outgrown and taken at once.
        for (let step = 0; chunked.some((c) => step < c.length); step++) {
          for (let i = 0; i < temps.length; i++) if (step < chunked[i]!.length) await temps[i]!.write(chunked[i]![step]!);
        }
        // One is given up (its buffers must not be lent to another body while the thread may read them).
        await temps[3]!.abort();
        resume();
        const finished = await Promise.all(temps.map((t, i) => (i === 3 ? null : t.finish())));
        // Released before the others are checked: a later body taking those kept buffers must not change a digest already given.
        finished[0]?.release();
        const next = await files.createTemp();
        const nextBody = bytes(1_100_000);
        for (const c of chunksOf(nextBody, [65_536])) await next.write(c);
        for (let i = 0; i < temps.length; i++) {
          if (i === 3) continue;
          assert.equal(finished[i]!.sha256.toString('hex'), sha(bodies[i]!), `round ${round}, body ${i}`);
          if (bodies[i]!.length <= KEEP_FOR_PARSE_MAX && i !== 0) assert.ok(finished[i]!.body?.equals(bodies[i]!), `kept bytes of body ${i}`);
          finished[i]!.release();
        }
        const nextDone = await next.finish();
        assert.equal(nextDone.sha256.toString('hex'), sha(nextBody));
        nextDone.release();
      }
      assert.equal(thread.active, 0);
    } finally {
      await thread.close();
    }
  });

  it('a slow thread: the pieces sent are copies (the writer reuses its buffers), and the copies come back for reuse', async () => {
    const thread = new HashThread();
    const files = new BlobFiles(folder(), undefined, thread);
    try {
      const resume = thread.pauseForTest();
      const bodies = [2_500_000, 1_500_000, 3_100_000].map((n) => bytes(n));
      const finishing: Promise<{ sha256: Buffer; release: () => void }>[] = [];
      for (const body of bodies) {
        // One reused chunk buffer, overwritten with each next piece, as a socket reader's may be.
        const chunk = Buffer.alloc(65_536);
        const temp = await files.createTemp();
        for (let at = 0; at < body.length; at += chunk.length) {
          const n = body.copy(chunk, 0, at, Math.min(body.length, at + chunk.length));
          await temp.write(Buffer.from(chunk.subarray(0, n)));
          chunk.fill(0x55);
        }
        finishing.push(temp.finish());
      }
      assert.equal(thread.spareBuffers, 0, 'nothing came back while the thread was held');
      resume();
      const done = await Promise.all(finishing);
      for (let i = 0; i < bodies.length; i++) assert.equal(done[i]!.sha256.toString('hex'), sha(bodies[i]!), `body ${i}`);
      for (const d of done) d.release();
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(thread.spareBuffers > 0 && thread.spareBuffers <= 8, `${thread.spareBuffers} buffers back for reuse`);
    } finally {
      await thread.close();
    }
  });

  it('a thread that dies fails the bodies it had begun (StoreError unavailable), and later digests are computed here', async () => {
    const broken: unknown[] = [];
    const thread = new HashThread((err) => broken.push(err));
    const files = new BlobFiles(folder(), undefined, thread);
    try {
      const body = bytes(2_500_000);
      const begun = await files.createTemp();
      for (const c of chunksOf(body, [65_536]).slice(0, 20)) await begun.write(c);
      const notYetFed = await files.createTemp();
      thread.crashForTest();
      // Wait for the thread to be gone (its exit is what fails the jobs).
      for (let i = 0; i < 200 && broken.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(broken.length, 1, 'told once that the thread stopped');
      for (const c of chunksOf(body, [65_536]).slice(20)) await begun.write(c);
      await assert.rejects(begun.finish(), (err: unknown) => err instanceof StoreError && err.kind === 'unavailable');
      await begun.abort();
      await notYetFed.write(body);
      await assert.rejects(notYetFed.finish(), (err: unknown) => err instanceof StoreError && err.kind === 'unavailable');
      await notYetFed.abort();
      // From now on, on the event loop: right digests.
      for (const size of [70_000, 2_000_000, KEEP_FOR_PARSE_MAX + 10]) {
        const b = bytes(size);
        const temp = await files.createTemp();
        for (const c of chunksOf(b, [65_536])) await temp.write(c);
        const done = await temp.finish();
        assert.equal(done.sha256.toString('hex'), sha(b));
        done.release();
      }
      assert.equal(broken.length, 1);
    } finally {
      await thread.close();
    }
  });
});
