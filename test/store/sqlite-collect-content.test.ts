/**
 * collectContent, where an APPEND's bytes become an inline body or a temp file: content that says
 * up front it is larger than inlineMax (an IMAP literal) has its temp file created once 64 KiB of it
 * have come, not after inlineMax of them (nor at its first byte); content shorter than it said stays inline and leaves
 * no file behind, and content that fails leaves none either. A literal announced at or below
 * inlineMax is gathered and hashed as it arrives: the same bytes and digest as joined whole, also
 * when it brings fewer or more bytes than it announced. Nothing is opened before a first byte.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { BlobFiles } from '../../src/store/sqlite/blob-files.js';
import { collectContent, releaseCollected } from '../../src/store/sqlite/content.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function files(): BlobFiles {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-collect-'));
  dirs.push(dir);
  return new BlobFiles(dir, undefined, false);
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A literal as the framer hands it: its size first, then its chunks, with `between` run after each. */
function literal(size: number, chunks: Buffer[], between: (i: number) => Promise<void> = async () => undefined, failAfter?: number): AsyncIterable<Buffer> & { size: number } {
  return {
    size,
    async *[Symbol.asyncIterator]() {
      for (const [i, c] of chunks.entries()) {
        if (failAfter === i) throw new Error('the client went away');
        yield c;
        await between(i);
      }
    },
  };
}

describe('SqliteStore collectContent', () => {
  it('creates the temp file of a literal announced above inlineMax once 64 KiB of it have come, before inlineMax of it has', async () => {
    const f = files();
    const chunks = [Buffer.alloc(40_000, 'a'), Buffer.alloc(40_000, 'b'), Buffer.alloc(40_000, 'c')];
    const seen: number[] = [];
    const collected = await collectContent(
      literal(120_000, chunks, async () => {
        await tick();
        seen.push(readdirSync(f.tmp).length);
      }),
      100_000,
      f,
    );
    assert.equal(seen[0], 0, 'no temp file after the first 40 KB: one byte and a stall must not hold a file');
    assert.equal(seen[1], 1, 'the temp file existed after 80 of 120 KB (inlineMax 100 KB)');
    assert.equal(collected.kind, 'file');
    if (collected.kind !== 'file') return;
    assert.deepEqual(readFileSync(collected.tempPath), Buffer.concat(chunks));
    releaseCollected(collected);
  });

  it('copies small chunks together and keeps every byte in order, inline and to a file', async () => {
    for (const [total, inlineMax] of [
      [70_000, 100_000],
      [150_000, 100_000],
    ] as const) {
      const f = files();
      const sent = Buffer.alloc(total);
      for (let i = 0; i < total; i++) sent[i] = (i * 7 + (i >> 8)) & 0xff;
      // One byte at a time, one large chunk in the middle, and a source that reuses its buffer: the
      // copy means bytes already taken cannot change afterwards.
      const reused = Buffer.alloc(1);
      const chunks: Buffer[] = [];
      for (let i = 0; i < total; ) {
        if (i === 30_000) {
          chunks.push(sent.subarray(i, i + 10_000));
          i += 10_000;
        } else {
          chunks.push(reused);
          i++;
        }
      }
      let at = 0;
      async function* source(): AsyncGenerator<Buffer> {
        for (const c of chunks) {
          if (c === reused) reused[0] = sent[at]!;
          at += c.length;
          yield c;
        }
      }
      const content = Object.assign(source(), { size: total });
      const collected = await collectContent(content, inlineMax, f);
      const body = collected.kind === 'inline' ? collected.body : readFileSync(collected.tempPath);
      assert.equal(collected.kind, total > inlineMax ? 'file' : 'inline');
      assert.equal(collected.size, total);
      assert.ok(body.equals(sent), `bytes in order (${total})`);
      assert.deepEqual(collected.sha256, createHash('sha256').update(sent).digest());
      releaseCollected(collected);
    }
  });

  it('keeps content shorter than it announced inline, and removes the file opened for it', async () => {
    const f = files();
    const collected = await collectContent(literal(500, [Buffer.alloc(30, 'x'), Buffer.alloc(30, 'y')], () => tick()), 100, f);
    assert.equal(collected.kind, 'inline');
    assert.equal(collected.size, 60);
    assert.deepEqual(readdirSync(f.tmp), []);
  });

  it('leaves no temp file when the content fails before or after the file was needed', async () => {
    for (const failAfter of [1, 3]) {
      const f = files();
      const chunks = [Buffer.alloc(40, 'a'), Buffer.alloc(40, 'b'), Buffer.alloc(40, 'c'), Buffer.alloc(40, 'd')];
      await assert.rejects(collectContent(literal(160, chunks, () => tick(), failAfter), 100, f), /went away/);
      assert.deepEqual(readdirSync(f.tmp), [], `a failure after ${failAfter} chunks left a temp file`);
    }
  });

  it('does not open a file for a literal announced at or below inlineMax', async () => {
    const f = files();
    const seen: number[] = [];
    const collected = await collectContent(
      literal(100, [Buffer.alloc(50, 'a'), Buffer.alloc(50, 'b')], async () => {
        await tick();
        seen.push(readdirSync(f.tmp).length);
      }),
      100,
      f,
    );
    assert.equal(collected.kind, 'inline');
    assert.deepEqual(seen, [0, 0]);
  });

  it('gathers a literal announced at or below inlineMax as it arrives: same bytes and digest, whatever it brings', async () => {
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const parts = [Buffer.from('Subject: a\r\n\r\n'), Buffer.alloc(37, 'b'), Buffer.alloc(41, 'c')];
    const whole = Buffer.concat(parts);
    const cases: Array<{ name: string; announced: number; chunks: Buffer[]; expect: Buffer }> = [
      { name: 'as announced', announced: whole.length, chunks: parts, expect: whole },
      { name: 'fewer bytes than announced', announced: whole.length + 20, chunks: parts, expect: whole },
      { name: 'more bytes than announced (still under inlineMax)', announced: whole.length - 30, chunks: parts, expect: whole },
      { name: 'empty', announced: 10, chunks: [], expect: Buffer.alloc(0) },
    ];
    for (const c of cases) {
      const collected = await collectContent(literal(c.announced, c.chunks), 100, files());
      assert.equal(collected.kind, 'inline', c.name);
      if (collected.kind !== 'inline') continue;
      assert.equal(collected.size, c.expect.length, c.name);
      assert.deepEqual(collected.body, c.expect, c.name);
      assert.equal(collected.sha256.toString('hex'), sha(c.expect), c.name);
    }
  });

  it('opens no file for a literal announced above inlineMax until its first byte arrives', async () => {
    const f = files();
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    const source = {
      size: 500,
      async *[Symbol.asyncIterator]() {
        await stalled; // a client that sent `{500}` and then nothing, for now
        yield Buffer.alloc(300, 'a');
        yield Buffer.alloc(200, 'b');
      },
    };
    const collecting = collectContent(source, 100, f);
    await tick(50);
    assert.deepEqual(readdirSync(f.tmp), [], 'no temp file before the first byte');
    release();
    const collected = await collecting;
    assert.equal(collected.kind, 'file');
    if (collected.kind === 'file') releaseCollected(collected);
  });

  it('goes on to a temp file when a literal announced at or below inlineMax brings more than inlineMax', async () => {
    const f = files();
    const chunks = [Buffer.alloc(60, 'a'), Buffer.alloc(60, 'b'), Buffer.alloc(60, 'c')];
    const collected = await collectContent(literal(90, chunks), 100, f);
    assert.equal(collected.kind, 'file');
    if (collected.kind !== 'file') return;
    assert.deepEqual(readFileSync(collected.tempPath), Buffer.concat(chunks));
    assert.equal(collected.sha256.toString('hex'), createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
    releaseCollected(collected);
  });
});
