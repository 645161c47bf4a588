/**
 * previewOfText flattens only a leading slice of a long text (src/mime/preview.ts). Its result must
 * be the one of the plain rule — collapse every white-space run of the whole text, trim, cut to 200
 * code points, trim the cut — for every text: runs and surrogate pairs cut by the slice, texts just
 * over and under the limit, lone surrogates, Unicode spaces and controls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { previewOfText, PREVIEW_MAX_CHARS } from '../../src/mime/index.js';

/** The rule as first written: the whole text flattened, then cut through an array of code points. */
function reference(text: string, max = PREVIEW_MAX_CHARS): string {
  const flat = text.replace(/[\s\p{Z}\p{Cc}]+/gu, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : chars.slice(0, max).join('').trimEnd();
}

/** A deterministic generator (xorshift), so a failure names a seed that repeats it. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const PIECES = ['a', 'Z', '9', ' ', '  ', '\t', '\r\n', '\n\n\n', '\u00a0', '\u2003', '\u3000', '\u0000', '\u0085', '\ufeff', 'é', '😀', '\ud83d', '\ude00', '\ufffd', 'word ', 'longer-word '];

function text(next: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += PIECES[Math.floor(next() * PIECES.length)]!;
  return out;
}

test('previewOfText gives what the whole-text rule gives, for random texts of every length around the slices', () => {
  const next = random(20261204);
  const lengths = [0, 1, 50, 199, 200, 201, 202, 203, 204, 205, 790, 799, 800, 801, 810, 1000, 6399, 6400, 6401, 7000, 60_000];
  for (const length of lengths) {
    for (let round = 0; round < 60; round++) {
      const t = text(next, length);
      assert.equal(previewOfText(t), reference(t), `length ${length} round ${round}: ${JSON.stringify(t.slice(0, 900))}`);
      for (const max of [1, 3, 10]) assert.equal(previewOfText(t, max), reference(t, max), `max ${max}, length ${length} round ${round}`);
    }
  }
});

test('previewOfText: a text whose slice ends inside a white-space run, a surrogate pair, or just past the limit', () => {
  const cases: string[] = [];
  for (const cutAt of [797, 798, 799, 800, 801, 802]) {
    const head = 'x'.repeat(cutAt);
    cases.push(`${head}       y`, `${head}😀😀 z`, `${head.slice(0, 199)}\n\n\n\n${'q'.repeat(1000)}`, `${'ab '.repeat(66)}${' '.repeat(cutAt)}c`);
  }
  // Short words and long gaps: fewer than 200 characters in the first slices, many in the text.
  cases.push(`${' '.repeat(5000)}${'w '.repeat(300)}`, `${'a\u2003'.repeat(99)}${'\u00a0'.repeat(900)}${'b'.repeat(400)}`);
  // Exactly 200, 201 and 202 code points, with pairs, after a long lead of spaces.
  for (const n of [200, 201, 202, 203]) cases.push(`${' '.repeat(900)}${'😀'.repeat(n)}${' '.repeat(900)}`);
  // The first slice ends inside a run after exactly 199, 200 or 201 code points: a space there is
  // cut off only when more follows (and the text goes on past the slice).
  for (let k = 196; k <= 204; k++) {
    cases.push(`${'x'.repeat(k)}${' '.repeat(2000)}y`, `${'x'.repeat(k)}${' '.repeat(2000)}`, `${'😀'.repeat(k)}${'\n'.repeat(1500)}${'y'.repeat(300)}`);
    cases.push(`${'x'.repeat(k - 1)}${' '.repeat(800 - k)}😀😀😀`, `${'x'.repeat(799)}😀`.slice(0, 800 + k - 200) + 'tail');
  }
  for (const c of cases) assert.equal(previewOfText(c), reference(c), JSON.stringify(c.slice(0, 120)));
});
