/**
 * The i;unicode-casemap comparator (RFC 5051 §2) as SEARCH (RFC 5255 I18NLEVEL=1), SORT and THREAD
 * use it: each code point's simple titlecase (UnicodeData.txt), then NFKD, compared as octets. The
 * table holds the characters where a plain lower- or upper-casing gives another answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { casemapKey, titlecaseOf } from '../../src/mime/collation.js';
import { foldText } from '../../src/store/search-eval.js';

const cps = (s: string): string => [...s].map((c) => c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')).join(' ');

test('RFC 5051 titlecased canonicalized form of the tricky characters', () => {
  const table: Array<[input: string, expected: string, why: string]> = [
    ['abc', '0041 0042 0043', 'ASCII: the titlecase of a small letter is its capital'],
    ['\u01c4', '0044 007A 030C', 'RFC 5051 §2 example: Ǆ → ǅ (titlecase) → D ž → D z ̌'],
    ['\u01c5', '0044 007A 030C', 'ǅ is its own titlecase'],
    ['\u01c6', '0044 007A 030C', 'ǆ → ǅ, not the uppercase Ǆ'],
    ['\u01c9', '004C 006A', 'ǉ → ǈ → L j'],
    ['\u00df', '00DF', 'ß has no simple titlecase (SS is a full mapping): it stays'],
    ['\u1e9e', '1E9E', 'ẞ is its own titlecase: ß and ẞ differ'],
    ['\ufb01', '0066 0069', 'ﬁ has no titlecase; NFKD gives small f i, which are not titlecased again'],
    ['fi', '0046 0049', 'so "fi" (F I) does not match the ligature'],
    ['\uff21\uff42', '0041 0042', 'fullwidth Ａ is its own titlecase; ｂ → Ｂ; NFKD gives A B'],
    ['\u0131', '0049', 'Turkish dotless ı → I'],
    ['\u0130', '0049 0307', 'İ is its own titlecase; NFD gives I + combining dot'],
    ['i', '0049', 'no locale: i → I, never İ'],
    ['\u03c2\u03c3\u03a3', '03A3 03A3 03A3', 'final ς, σ and Σ all map to Σ'],
    ['\u00e9', '0045 0301', 'é → É → E + combining acute'],
    ['e\u0301', '0045 0301', 'decomposed é gives the same'],
    ['\u1fb3', '0391 0345', 'ᾳ → ᾼ (titlecase, not the uppercase ΑΙ) → Α + ypogegrammeni'],
    ['\u1f80', '0391 0313 0345', 'ᾀ → ᾈ → Α + psili + ypogegrammeni'],
    ['\u0149', '02BC 006E', 'ŉ has no titlecase; NFKD gives ʼ n'],
    ['\u10d0', '10D0', 'Georgian Mkhedruli is its own titlecase (not Mtavruli)'],
    ['\u1c90', '1C90', 'Mtavruli stays'],
    ['\u212a', '004B', 'Kelvin sign → K'],
    ['\u2126', '03A9', 'Ohm sign → Ω'],
    ['\u00bc', '0031 2044 0034', 'compatibility decomposition of ¼'],
    ['\uac00', '1100 1161', 'Hangul syllables decompose to jamo'],
    ['\u{10428}', '10400', 'Deseret (outside the BMP): 𐐨 → 𐐀'],
    ['a\u0301\u0323', '0041 0323 0301', 'marks come out in canonical order (NFKD)'],
    ['\u0000x', '0000 0058', 'NUL (the stores\' occurrence separator) stays'],
  ];
  for (const [input, expected, why] of table) {
    assert.equal(cps(casemapKey(input)), expected, `${cps(input)}: ${why}`);
    assert.equal(foldText(input), casemapKey(input), 'SEARCH folds with the same comparator');
  }
});

test('substring matches under the comparator (what SEARCH compares)', () => {
  const found = (needle: string, text: string): boolean => foldText(text).includes(foldText(needle));
  assert.equal(found('STRASSE', 'Straße'), false);
  assert.equal(found('strasse', 'STRASSE'), true);
  assert.equal(found('straße', 'STRAẞE'), false);
  assert.equal(found('STRAßE', 'straße'), true);
  assert.equal(found('fi', 'ﬁle'), false);
  assert.equal(found('ﬁ', 'ﬁle'), true);
  assert.equal(found('abc', 'ＡＢＣ'), true);
  assert.equal(found('ａｂｃ', 'ABC'), true);
  assert.equal(found('cafe', 'Café'), true, 'the accent decomposes after the E');
  assert.equal(found('café', 'CAFE'), false);
  assert.equal(found('ǆ', 'ǅ'), true);
  assert.equal(found('dz', 'ǅ'), false, 'D ž: the caron follows the z');
  assert.equal(found('ıstanbul', 'ISTANBUL'), true);
  assert.equal(found('σοφία', 'ΣΟΦΊΑ'), true);
  assert.equal(found('ς', 'Σ'), true);
});

test('the fast path gives the per-code-point titlecase for every code point and for mixed text', () => {
  // Every code point where toUpperCase() expands must be one the fast path treats apart.
  for (let c = 0; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCodePoint(c);
    const expected = titlecaseOf(ch).normalize('NFKD');
    if (casemapKey(ch) !== expected) assert.fail(`U+${c.toString(16)}: ${cps(casemapKey(ch))} instead of ${cps(expected)}`);
  }
  // Mixed text: the native whole-string path equals titlecasing each code point.
  const pool = ['a', 'Z', 'ß', 'ﬁ', 'ǅ', 'ǆ', 'ᾳ', 'ᾀ', 'ა', 'é', 'e\u0301', '\u0323', 'ς', 'ı', 'İ', 'Ａ', '가', '𐐨', ' ', '\u0000', 'ŉ', 'ﬃ', 'Ω'];
  let seed = 12345;
  const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let n = 0; n < 2000; n++) {
    let s = '';
    for (let i = next() % 12; i >= 0; i--) s += pool[next() % pool.length];
    const reference = [...s].map(titlecaseOf).join('').normalize('NFKD');
    assert.equal(casemapKey(s), reference, cps(s));
  }
});
