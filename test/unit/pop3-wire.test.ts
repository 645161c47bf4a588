import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineFramer, type FramedItem } from '../../src/pop3/wire/framer.js';
import { MultilineEncoder, measureOctets } from '../../src/pop3/wire/multiline.js';
import { parseCommandLine, parseMessageNumber, CommandSyntaxError } from '../../src/pop3/wire/command-line.js';

function drain(f: LineFramer): FramedItem[] {
  const out: FramedItem[] = [];
  for (let item = f.next(); item; item = f.next()) out.push(item);
  return out;
}

test('framer: CRLF and bare LF end lines, split across chunks', () => {
  const f = new LineFramer(1024);
  f.push(Buffer.from('USER al'));
  f.push(Buffer.from('ice\r'));
  assert.deepEqual(drain(f), []);
  f.push(Buffer.from('\nSTAT\nNOOP\r\nQU'));
  assert.deepEqual(drain(f), [
    { kind: 'line', text: 'USER alice' },
    { kind: 'line', text: 'STAT' },
    { kind: 'line', text: 'NOOP' },
  ]);
  assert.equal(f.buffered, 2);
});

test('framer: an overlong line is dropped without buffering and the next line survives', () => {
  const f = new LineFramer(600);
  const big = Buffer.alloc(1024 * 1024, 0x41);
  for (let i = 0; i < big.length; i += 65536) f.push(big.subarray(i, i + 65536));
  assert.ok(f.buffered < 700, 'the long line is not kept');
  f.push(Buffer.from('\r\nNOOP\r\n'));
  assert.deepEqual(drain(f), [
    { kind: 'overlong', length: 1024 * 1024 + 2 },
    { kind: 'line', text: 'NOOP' },
  ]);
});

test('framer: discard forgets pipelined input (STLS)', () => {
  const f = new LineFramer(1024);
  f.push(Buffer.from('STLS\r\nUSER evil\r\nPA'));
  assert.deepEqual(f.next(), { kind: 'line', text: 'STLS' });
  f.discard();
  assert.equal(f.next(), undefined);
  assert.equal(f.buffered, 0);
});

test('command line: keyword case, arguments, PASS rest', () => {
  assert.deepEqual(parseCommandLine('list 3'), { keyword: 'LIST', args: ['3'], rest: '3' });
  assert.deepEqual(parseCommandLine('PASS my secret '), { keyword: 'PASS', args: ['my', 'secret'], rest: 'my secret ' });
  assert.throws(() => parseCommandLine(''), CommandSyntaxError);
  assert.throws(() => parseCommandLine('ST@T'), CommandSyntaxError);
  assert.equal(parseMessageNumber('12'), 12);
  assert.throws(() => parseMessageNumber('-1'), CommandSyntaxError);
  assert.throws(() => parseMessageNumber('1x'), CommandSyntaxError);
  assert.throws(() => parseMessageNumber(undefined), CommandSyntaxError);
});

function encodeAll(chunks: string[], options?: ConstructorParameters<typeof MultilineEncoder>[0]): string {
  const enc = new MultilineEncoder(options);
  const parts = chunks.map((c) => enc.push(Buffer.from(c, 'latin1')));
  parts.push(enc.end());
  return Buffer.concat(parts).toString('latin1');
}

test('multiline: CRLF always, dots stuffed, terminator added', () => {
  assert.equal(encodeAll(['a\nb\r\n.c\r', '\n..d\re']), 'a\r\nb\r\n..c\r\n...d\r\ne\r\n.\r\n');
  assert.equal(encodeAll(['.\r\n']), '..\r\n.\r\n');
  assert.equal(encodeAll(['x\r', '\n', '.', 'y\r\n']), 'x\r\n..y\r\n.\r\n');
  assert.equal(encodeAll(['']), '.\r\n');
});

test('multiline: octets count what is sent, without stuffing or terminator', async () => {
  const enc = new MultilineEncoder();
  const body = Buffer.concat([enc.push(Buffer.from('.a\nb')), enc.end()]);
  assert.equal(body.toString(), '..a\r\nb\r\n.\r\n');
  assert.equal(enc.octets, 'a\r\nb\r\n'.length + 1);
  assert.equal(await measureOctets(Buffer.from('.a\nb')), 7);
  assert.equal(await measureOctets(Buffer.from('a\r\nb\r\n')), 6);
});

test('multiline: TOP cuts after the header and n body lines', () => {
  const msg = 'Subject: x\r\nFrom: y\r\n\r\nl1\r\n.l2\r\nl3\r\n';
  assert.equal(encodeAll([msg], { bodyLines: 0 }), 'Subject: x\r\nFrom: y\r\n\r\n.\r\n');
  assert.equal(encodeAll([msg], { bodyLines: 2 }), 'Subject: x\r\nFrom: y\r\n\r\nl1\r\n..l2\r\n.\r\n');
  assert.equal(encodeAll([msg], { bodyLines: 99 }), `Subject: x\r\nFrom: y\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n`);
  // chunked one byte at a time gives the same bytes
  assert.equal(encodeAll([...msg], { bodyLines: 1 }), 'Subject: x\r\nFrom: y\r\n\r\nl1\r\n.\r\n');
  const enc = new MultilineEncoder({ bodyLines: 1 });
  enc.push(Buffer.from(msg));
  assert.equal(enc.done, true);
});

test('framer: UTF-8 lines decode as UTF-8, other bytes as latin1', () => {
  const f = new LineFramer(1024);
  f.push(Buffer.concat([Buffer.from('PASS pässwörd\r\n'), Buffer.from([0x50, 0x41, 0x53, 0x53, 0x20, 0xe4, 0x0d, 0x0a])]));
  assert.deepEqual(f.next(), { kind: 'line', text: 'PASS pässwörd' });
  assert.deepEqual(f.next(), { kind: 'line', text: 'PASS ä' });
});

test('multiline: output does not depend on how the input is chunked, and un-stuffs to the normalised input', async () => {
  const fc = (await import('fast-check')).default;
  const alphabet = fc.constantFrom(0x0d, 0x0a, 0x2e, 0x41, 0x20);
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }), (bytes, cuts) => {
      const input = Buffer.from(bytes);
      const whole = new MultilineEncoder();
      const expected = Buffer.concat([whole.push(input), whole.end()]);
      const chunked = new MultilineEncoder();
      const parts: Buffer[] = [];
      for (let i = 0, k = 0; i < input.length; k++) {
        const n = cuts[k % cuts.length];
        parts.push(chunked.push(input.subarray(i, i + n)));
        i += n;
      }
      parts.push(chunked.end());
      assert.deepEqual(Buffer.concat(parts), expected);
      // Every line ends in CRLF, there is no bare CR or LF, and it ends with the terminator.
      const text = expected.toString('latin1');
      assert.ok(text.endsWith('.\r\n'));
      assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/);
      // Un-stuffing gives back the input with CRLF line ends, plus a final CRLF if it lacked one.
      const lines = text.slice(0, -3).split('\r\n').slice(0, -1).map((l) => (l.startsWith('.') ? l.slice(1) : l));
      const normalised = input.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
      const withEnd = normalised.length === 0 || normalised.endsWith('\r\n') ? normalised : `${normalised}\r\n`;
      assert.equal(lines.map((l) => `${l}\r\n`).join(''), withEnd);
      assert.equal(whole.octets, Buffer.byteLength(withEnd, 'latin1'));
    }),
    { numRuns: 500 },
  );
});
