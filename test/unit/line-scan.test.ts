/**
 * src/util/line-scan.ts: the WebAssembly SIMD "every line end is CRLF" check must answer exactly
 * as the indexOf walk does — for bare CR and bare LF at every position of a 16-byte block, across
 * the module's 64 KiB window, in the 0–15 byte tail, and on random bytes — and its LF count must
 * be the count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineScanner } from '../../src/util/line-scan.js';
import { CrlfNormalizer, isCrlf, isCrlfByIndexOf } from '../../src/store/line-ends.js';

const scanner = lineScanner();

test('the SIMD scanner is made on this Node (WebAssembly with SIMD)', () => {
  assert.ok(scanner, 'lineScanner() returned null: every check would fall back to indexOf');
});

test('a bare CR or LF at any position of a CRLF text is found, and CRLF text passes', () => {
  const line = Buffer.from('0123456789abcd\r\n'); // 16 bytes: line ends fall on block boundaries
  const odd = Buffer.from('0123456789abcdefg\r\n'); // 19 bytes: they fall everywhere
  for (const unit of [line, odd]) {
    const text = Buffer.concat(Array.from({ length: 4200 }, () => unit)); // past one 64 KiB window
    for (const length of [0, 1, 15, 16, 17, 31, 32, 33, 65535, 65536, 65537, text.length]) {
      const part = text.subarray(0, length);
      assert.equal(scanner!.isCrlf(part), isCrlfByIndexOf(part), `prefix of ${length}`);
    }
    assert.equal(scanner!.isCrlf(text), true);
    const positions = [0, 1, 14, 15, 16, 17, 31, 32, 65534, 65535, 65536, 65537, text.length - 2, text.length - 1];
    for (const at of positions) {
      for (const byte of [0x0d, 0x0a, 0x41]) {
        const copy = Buffer.from(text);
        copy[at] = byte;
        assert.equal(scanner!.isCrlf(copy), isCrlfByIndexOf(copy), `byte ${byte} at ${at}`);
      }
    }
  }
});

test('random bytes with many CRs and LFs: the same answer as the indexOf walk', () => {
  let seed = 12345;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let valid = 0;
  for (let k = 0; k < 5000; k++) {
    const n = Math.floor(random() * 300);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      const r = random();
      b[i] = r < 0.1 ? 0x0d : r < 0.2 ? 0x0a : 0x61 + (i % 26);
    }
    const fixed = new CrlfNormalizer().push(b); // the same bytes made valid
    for (const buf of [b, fixed]) {
      const want = isCrlfByIndexOf(buf);
      if (want) valid++;
      assert.equal(scanner!.isCrlf(buf), want, JSON.stringify(buf.toString('latin1')));
      assert.equal(isCrlf(buf), want);
    }
  }
  assert.ok(valid >= 5000, 'the valid case was exercised');
});

test('LFs counted in any range, across windows and tails, as a byte walk counts them', () => {
  let seed = 777;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const b = Buffer.alloc(200_000);
  for (let i = 0; i < b.length; i++) b[i] = random() < 0.05 ? 0x0a : random() < 0.05 ? 0x0d : 0x61;
  const walk = (start: number, end: number): number => {
    let n = 0;
    for (let i = start; i < end; i++) if (b[i] === 0x0a) n++;
    return n;
  };
  const edges = [0, 1, 15, 16, 17, 255, 256, 65535, 65536, 65537, 131072, 199_999, 200_000];
  for (const start of edges) for (const end of edges) if (end >= start) assert.equal(scanner!.countLf(b, start, end), walk(start, end), `[${start}, ${end})`);
  for (let k = 0; k < 300; k++) {
    const start = Math.floor(random() * b.length);
    const end = start + Math.floor(random() * (b.length - start));
    assert.equal(scanner!.countLf(b, start, end), walk(start, end));
  }
});
