/**
 * New body files are written with O_DIRECT from aligned, reused slots (direct-slots.ts, TempBlob):
 * every size must come out byte for byte (whole pieces, a ring for bodies larger than a slot, a
 * padded last write cut back to the size), the body handed to the parse must be the body, the
 * slots must go back to the pool, and a file system that refuses O_DIRECT must get the bytes
 * through the page cache instead.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BlobFiles, TempBlob } from '../../src/store/sqlite/blob-files.js';
import { KEEP_FOR_PARSE_MAX } from '../../src/store/sqlite/blob-files.js';
import { ALIGN, PIECE_BYTES, SLOT_BYTES, directSlots, giveSlot, takeSlot } from '../../src/store/sqlite/direct-slots.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'postroom-blob-direct-'));
  dirs.push(d);
  return d;
}

/** Whether this file system takes O_DIRECT at all (tmpfs on older kernels does not). */
function acceptsDirect(dir: string): boolean {
  try {
    closeSync(openSync(join(dir, 'probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT, 0o600));
    return true;
  } catch {
    return false;
  }
}

/** Bytes that differ at every position, so a misplaced or repeated piece shows. */
function body(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  return b;
}

async function writeInChunks(temp: TempBlob, bytes: Buffer, chunk: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += chunk) await temp.write(bytes.subarray(at, at + chunk));
}

describe('SqliteStore body files: O_DIRECT writes', () => {
  it('opens new body files with O_DIRECT where the file system takes it', async () => {
    const dir = folder();
    const files = new BlobFiles(dir);
    const temp = await files.createTemp();
    try {
      const fd = (temp as unknown as { handle: { fd: number } }).handle.fd;
      const flags = Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))![1]!, 8);
      assert.equal((flags & constants.O_DIRECT) !== 0, acceptsDirect(dir), `flags ${flags.toString(8)}`);
    } finally {
      await temp.abort();
    }
  });

  it('with O_DIRECT off (the store default), a body is written through the page cache, byte for byte, still gathered and parsed from a slot', async () => {
    const dir = folder();
    const files = new BlobFiles(dir, undefined, false);
    const bytes = body(SLOT_BYTES - 1000, 7);
    const temp = await files.createTemp();
    const fd = (temp as unknown as { handle: { fd: number } }).handle.fd;
    const flags = Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))![1]!, 8);
    assert.equal(flags & constants.O_DIRECT, 0, `flags ${flags.toString(8)}`);
    await writeInChunks(temp, bytes, 65536);
    const done = await temp.finish();
    assert.ok(done.body?.equals(bytes), 'the parse gets the body');
    const lent = directSlots();
    done.release();
    assert.equal(directSlots().free, lent.free + 1, 'the body was in a slot, given back on release');
    assert.ok(readFileSync(temp.path).equals(bytes), 'the file holds exactly the body (no padding)');
    rmSync(temp.path, { force: true });
  });

  it('writes every size byte for byte, in any chunking, hands the parse the body, and gives the slots back', async () => {
    const files = new BlobFiles(folder());
    const sizes = [1, ALIGN - 1, ALIGN, ALIGN + 1, PIECE_BYTES - 1, PIECE_BYTES, PIECE_BYTES + 1, SLOT_BYTES - 1, SLOT_BYTES, SLOT_BYTES + 1, 3 * PIECE_BYTES + 123, KEEP_FOR_PARSE_MAX + 5000];
    const before = directSlots();
    for (const [i, size] of sizes.entries()) {
      for (const chunk of [65536, 7919, size]) {
        const bytes = body(size, i + chunk);
        const temp = await files.createTemp();
        await writeInChunks(temp, bytes, chunk);
        const { sha256, body: kept, release } = await temp.finish();
        const what = `size ${size}, chunks of ${chunk}`;
        if (size <= KEEP_FOR_PARSE_MAX) assert.ok(kept?.equals(bytes), `${what}: the bytes for the parse`);
        else assert.equal(kept, undefined, `${what}: too large to keep`);
        release();
        assert.ok(readFileSync(temp.path).equals(bytes), `${what}: the file`);
        assert.deepEqual(sha256, createHash('sha256').update(bytes).digest());
        rmSync(temp.path);
      }
    }
    const after = directSlots();
    assert.equal(after.made - after.free, before.made - before.free, 'every slot taken was given back');
  });

  it('a body kept in its slot stays intact until released, while other bodies are written', async () => {
    const files = new BlobFiles(folder());
    const first = body(PIECE_BYTES + 777, 3);
    const temp = await files.createTemp();
    await writeInChunks(temp, first, 65536);
    const done = await temp.finish();
    for (let i = 0; i < 3; i++) {
      const other = await files.createTemp();
      await writeInChunks(other, body(SLOT_BYTES + 99, 50 + i), 65536);
      (await other.finish()).release();
    }
    assert.ok(done.body?.equals(first), 'no later body was written into the lent slot');
    done.release();
  });

  it('several bodies written at once do not share a slot', async () => {
    const files = new BlobFiles(folder());
    const bodies = Array.from({ length: 6 }, (_, i) => body(SLOT_BYTES - 3 * PIECE_BYTES / 2 + 400_000 * i + 17, 100 + i));
    const temps = await Promise.all(bodies.map(() => files.createTemp()));
    // Interleaved: each body's chunks alternate with the others'.
    for (let at = 0; at < Math.max(...bodies.map((b) => b.length)); at += 40_000) {
      await Promise.all(temps.map((t, i) => (at < bodies[i]!.length ? t.write(bodies[i]!.subarray(at, at + 40_000)) : undefined)));
    }
    for (const [i, t] of temps.entries()) {
      const done = await t.finish();
      assert.ok(done.body?.equals(bodies[i]!));
      done.release();
      assert.ok(readFileSync(t.path).equals(bodies[i]!));
    }
  });

  it('the slots\' memory is made a group of 8 at a time: more than 8 bodies at once get a slot each, up to 64', () => {
    const before = directSlots();
    const taken: Buffer[] = [];
    for (let i = 0; i < 64 - (before.made - before.free); i++) {
      const slot = takeSlot();
      assert.ok(slot, `slot ${i} refused`);
      taken.push(slot);
    }
    assert.equal(takeSlot(), null, 'a 65th slot at once');
    const all = directSlots();
    assert.equal(all.made, 64);
    assert.equal(all.groups, 8, 'eight groups of 8 slots');
    // Distinct memory, page-aligned: writing the ends of one slot leaves the others alone.
    taken.forEach((s, i) => {
      s[0] = i;
      s[SLOT_BYTES - 1] = i;
    });
    taken.forEach((s, i) => assert.equal(s.byteOffset % ALIGN, 0, `slot ${i} not aligned`));
    taken.forEach((s, i) => assert.ok(s[0] === i && s[SLOT_BYTES - 1] === i, `slot ${i} overwritten`));
    for (const s of taken) giveSlot(s);
    const after = directSlots();
    assert.equal(after.made - after.free, before.made - before.free, 'every slot taken was given back');
  });

  it('an aborted body gives its slot back and leaves no file', async () => {
    const files = new BlobFiles(folder());
    const before = directSlots();
    const temp = await files.createTemp();
    await temp.write(body(100_000, 1));
    await temp.abort();
    const now = directSlots();
    assert.equal(now.made - now.free, before.made - before.free);
    assert.throws(() => readFileSync(temp.path), /ENOENT/);
  });

  it('a file system that refuses an O_DIRECT write gets the bytes through the page cache, and the store is told (later bodies go that way)', async () => {
    const dir = folder();
    const path = join(dir, 'refused');
    const real = await open(path, 'w', 0o600);
    // A handle whose first positional write is refused as an O_DIRECT write would be (EINVAL).
    let refusedWrites = 0;
    const handle = new Proxy(real, {
      get(target, prop) {
        if (prop === 'write')
          return async () => {
            refusedWrites++;
            throw Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' });
          };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const slot = takeSlot();
    assert.ok(slot, 'a slot is available');
    let told = 0;
    const temp = new TempBlob(path, handle, undefined, { slot, direct: true, refused: () => told++ });
    const bytes = body(2 * SLOT_BYTES + 999, 7);
    await writeInChunks(temp, bytes, 65536);
    (await temp.finish()).release();
    assert.equal(refusedWrites, 1);
    assert.equal(told, 1);
    assert.deepEqual(readFileSync(path), bytes);
  });
});
