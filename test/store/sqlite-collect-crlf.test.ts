/**
 * collectContent (SQLite) fed through crlfContent, as the IMAP server does (crlfStore):
 * whatever the chunk cuts (a CR ending one chunk and its LF starting the next, bare CR, bare LF),
 * and whichever side of inlineMax the announced and the normalised sizes fall, what is collected is
 * toCrlf of the joined bytes — its size, its bytes, its digest — and the announced size is a lower
 * bound of what comes out.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BlobFiles } from '../../src/store/sqlite/blob-files.js';
import { collectContent, releaseCollected } from '../../src/store/sqlite/content.js';
import { crlfContent, toCrlf } from '../../src/store/line-ends.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function files(): BlobFiles {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-rv13b-'));
  dirs.push(dir);
  return new BlobFiles(dir, undefined, false);
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function literal(size: number, chunks: Buffer[], failAfter?: number): AsyncIterable<Buffer> & { size: number } {
  return {
    size,
    async *[Symbol.asyncIterator]() {
      for (const [i, c] of chunks.entries()) {
        if (failAfter === i) throw new Error('the client went away');
        yield Buffer.from(c); // a fresh buffer, as a socket read gives
      }
    },
  };
}

function cuts(raw: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const a of at) {
    out.push(raw.subarray(from, a));
    from = a;
  }
  out.push(raw.subarray(from));
  return out;
}

describe('review s13-b: collectContent through crlfContent', () => {
  it('collects toCrlf(joined) wherever the chunks are cut and wherever inlineMax lies', async () => {
    const samples = ['a\r\nb\r', '\r\n\r\n', 'x\ry\nz\r\n', 'Subject: s\n\nbody\r\n', '\n\n\n\n', '\r\r\r', 'ab\r\ncd'];
    let checked = 0;
    for (const s of samples) {
      const raw = Buffer.from(s);
      const want = toCrlf(raw);
      for (let i = 0; i <= raw.length; i++) {
        for (let j = i; j <= raw.length; j++) {
          const chunks = cuts(raw, [i, j]);
          // inlineMax below, at and above both the announced and the normalised size.
          for (const inlineMax of new Set([0, raw.length - 1, raw.length, want.length - 1, want.length, want.length + 5].filter((n) => n >= 0))) {
            const f = files();
            const content = crlfContent(literal(raw.length, chunks));
            const got = await collectContent(content, inlineMax, f);
            const name = `${JSON.stringify(s)} cut at ${i},${j} inlineMax ${inlineMax}`;
            assert.equal(got.size, want.length, name);
            assert.equal(got.sha256.toString('hex'), sha(want), name);
            const bytes = got.kind === 'inline' ? got.body : readFileSync(got.tempPath);
            assert.deepEqual(bytes, want, name);
            assert.ok(raw.length <= got.size, `${name}: announced ${raw.length} is a lower bound`);
            if (got.kind === 'inline') assert.deepEqual(readdirSync(f.tmp), [], `${name}: no temp file left for an inline body`);
            releaseCollected(got);
            if (got.kind === 'file') rmSync(got.tempPath);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 500, `${checked} cases`);
  });

  it('a zero-length literal (announced 0, and announced more but nothing came) is the empty body with its digest', async () => {
    for (const announced of [0, 10, 1000]) {
      const f = files();
      const got = await collectContent(crlfContent(literal(announced, [])), 100, f);
      assert.equal(got.kind, 'inline');
      assert.equal(got.size, 0);
      assert.equal(got.sha256.toString('hex'), sha(Buffer.alloc(0)));
      assert.deepEqual(readdirSync(f.tmp), []);
    }
  });

  it('a literal announced above inlineMax that fails after its first chunk (file being opened) leaves no temp file', async () => {
    for (const failAfter of [0, 1, 2]) {
      const f = files();
      const chunks = [Buffer.from('a\r'), Buffer.from('\nb'), Buffer.alloc(200, 'c')];
      await assert.rejects(collectContent(crlfContent(literal(500, chunks, failAfter)), 100, f), /went away/);
      // dropTemp awaits the open and aborts it; give an unawaited one a moment, bounded.
      for (let k = 0; k < 20 && readdirSync(f.tmp).length > 0; k++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(readdirSync(f.tmp), [], `failure after ${failAfter} chunks`);
    }
  });
});
