import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { MessageSpool } from '../../src/delivery/spool.js';
import { DotStuffer } from '../../src/lmtp/client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newDir = tempDirs('postroom-spool-');

async function collect(content: Buffer | AsyncIterable<Buffer>): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  const parts: Buffer[] = [];
  for await (const part of content) parts.push(part);
  return Buffer.concat(parts);
}

/** Splits `bytes` at the given cut points (sorted, deduplicated). */
function pieces(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

// The store contract's rule (src/store/line-ends.ts): bare LF and lone CR become CRLF.
const reference = (bytes: Buffer): Buffer => Buffer.from(bytes.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
/** The LMTP client's DotStuffer only turns bare LF into CRLF. */
const bareLfReference = (bytes: Buffer): Buffer => Buffer.from(bytes.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1');

test('bare LF and lone CR become CRLF however the message is cut into pieces, in memory and in a file', async () => {
  const dir = newDir();
  const byte = fc.constantFrom(0x0a, 0x0d, 0x41, 0x2e, 0xe9);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a)), fc.array(byte, { maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), async (random, shaped, cuts, small) => {
      const bytes = Buffer.concat([Buffer.from(shaped), random]);
      const spool = new MessageSpool({ memoryMax: small ? 16 : 1 << 20, maxSize: 1 << 20, directory: dir });
      for (const p of pieces(bytes, cuts)) await spool.write(p);
      const expected = reference(bytes);
      const got = await collect(spool.content(Buffer.from('P: x\r\n')));
      await spool.release();
      assert.deepEqual(got, Buffer.concat([Buffer.from('P: x\r\n'), expected]));
      assert.equal(spool.size, expected.length);
      assert.equal(spool.hasNul, bytes.includes(0));
    }),
    { numRuns: 300 },
  );
});

test('a large message goes to a temporary file that is already unlinked; many readers may read it at once', async () => {
  const dir = newDir();
  const spool = new MessageSpool({ memoryMax: 1024, maxSize: 1 << 24, directory: dir });
  const line = Buffer.from(`${'x'.repeat(998)}\r\n`);
  for (let i = 0; i < 300; i++) await spool.write(line);
  assert.equal(spool.inMemory, false);
  assert.deepEqual(readdirSync(dir), [], 'no file is left in the spool folder, even while the message is held');
  const copies = await Promise.all([1, 2, 3].map((n) => collect(spool.content(Buffer.from(`H: ${n}\r\n`)))));
  copies.forEach((copy, i) => {
    assert.equal(copy.length, 300 * 1000 + 6);
    assert.ok(copy.subarray(0, 6).equals(Buffer.from(`H: ${i + 1}\r\n`)));
  });
  await spool.release();
  assert.throws(() => spool.content(Buffer.alloc(0)), /released/);
});

test('a message of several megabytes, written in 64 KiB pieces with bare LFs, reads back whole: the pieces in the file and the tail not yet written', async () => {
  const spool = new MessageSpool({ memoryMax: 256 * 1024, maxSize: 1 << 24, directory: newDir() });
  // 2.5 MiB and a bit: two whole 1 MiB file writes, then bytes that never made a third.
  const lf = Buffer.from(`Subject: big\n\n${'ab\n'.repeat(Math.floor((2.5 * 1024 * 1024) / 3))}tail`);
  for (let at = 0; at < lf.length; at += 65536) await spool.write(lf.subarray(at, at + 65536));
  const expected = Buffer.from(lf.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
  assert.equal(spool.size, expected.length);
  const prefix = Buffer.from('Return-Path: <a@b.example>\r\n');
  const [one, two] = await Promise.all([collect(spool.content(prefix)), collect(spool.content(Buffer.alloc(0)))]);
  assert.ok(one.equals(Buffer.concat([prefix, expected])), 'the copy with a prefix is the normalised message');
  assert.ok(two.equals(expected), 'and so is a second reader\'s');
  await spool.release();
});

test('past maxSize nothing more is kept and the message is oversized; the header section is kept for the filter', async () => {
  const spool = new MessageSpool({ memoryMax: 1 << 20, maxSize: 100, directory: newDir() });
  await spool.write(Buffer.from('Subject: a\nX: b\n\nbody\n'));
  assert.equal(spool.headerBytes().toString(), 'Subject: a\r\nX: b\r\n');
  assert.equal(spool.oversized, false);
  await spool.write(Buffer.alloc(200, 0x61));
  assert.equal(spool.oversized, true);
  assert.equal(spool.receivedSize, 222);
  await spool.release();

  const headerless = new MessageSpool({ memoryMax: 1 << 20, maxSize: 100, directory: newDir() });
  await headerless.write(Buffer.from('\r\nonly a body\r\n'));
  assert.equal(headerless.headerBytes().length, 0);
});

test('a spool folder that cannot take the file: the write error is kept, later bytes are dropped, nothing throws', async () => {
  const spool = new MessageSpool({ memoryMax: 10, maxSize: 1000, directory: '/nonexistent/postroom-spool' });
  await spool.write(Buffer.alloc(20, 0x61));
  await spool.write(Buffer.alloc(20, 0x61));
  assert.equal((spool.error as NodeJS.ErrnoException).code, 'ENOENT');
  await spool.release();
});

test('DotStuffer: lines starting with "." get another, bare LF goes out as CRLF, the message ends with CRLF "." CRLF', async () => {
  await fc.assert(
    fc.property(fc.array(fc.constantFrom('.', '..', 'a', '\n', '\r\n', '\r', 'b.c', '.\r\n'), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 5 }), (parts, cuts) => {
      const bytes = Buffer.from(parts.join(''), 'latin1');
      const stuffer = new DotStuffer();
      const wire = Buffer.concat([...pieces(bytes, cuts).map((p) => stuffer.push(p)), stuffer.end()]).toString('latin1');
      assert.ok(wire.endsWith('\r\n.\r\n') || wire === '.\r\n');
      const body = wire.slice(0, wire.length - 3);
      assert.ok(!/(^|\n)\.(?!\.)/.test(body.replace(/\r\n$/, '')), 'a lone dot at a line start would end DATA early');
      // The server's view: unstuff, and compare with the CRLF form of the input.
      const unstuffed = body.replace(/(^|\n)\./g, '$1');
      const expected = bareLfReference(bytes).toString('latin1');
      assert.equal(unstuffed, expected.length === 0 || expected.endsWith('\r\n') ? expected : `${expected}\r\n`);
    }),
    { numRuns: 500 },
  );
});
