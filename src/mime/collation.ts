/**
 * The i;unicode-casemap collation (RFC 5051), which SORT and THREAD must use for strings
 * (RFC 5256 §7): every code point is mapped to its Unicode *titlecase* (the simple mapping of
 * UnicodeData.txt, not the full one of SpecialCasing.txt), the result is decomposed (NFKD), and
 * prepared strings are compared as octets of their UTF-8 form — that is, by code point.
 *
 * JavaScript has no titlecase API. For almost every code point the simple titlecase equals the
 * uppercase, and String#toUpperCase gives that whenever it maps one code point to one code point;
 * the few differences are tabled below. Where toUpperCase expands a character (ß → SS, ﬀ → FF),
 * UnicodeData.txt has no simple titlecase, so the character stays as it is.
 */

/** Code points whose simple titlecase differs from what toUpperCase() gives. */
const TITLECASE_EXCEPTIONS = new Map<number, number>();
// The digraphs have a distinct titlecase form: Ǆ ǅ ǆ → ǅ, and so on (RFC 5051 §2's own example).
for (const [first, title] of [
  [0x01c4, 0x01c5],
  [0x01c7, 0x01c8],
  [0x01ca, 0x01cb],
  [0x01f1, 0x01f2],
] as const) {
  for (let c = first; c < first + 3; c++) TITLECASE_EXCEPTIONS.set(c, title);
}
// Greek with ypogegrammeni: the titlecase is the single prosgegrammeni letter (ᾀ → ᾈ), while
// toUpperCase gives two letters (ᾀ → ἈΙ).
for (const base of [0x1f80, 0x1f90, 0x1fa0]) {
  for (let i = 0; i < 8; i++) {
    TITLECASE_EXCEPTIONS.set(base + i, base + 8 + i);
    TITLECASE_EXCEPTIONS.set(base + 8 + i, base + 8 + i);
  }
}
for (const [small, capital] of [
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
] as const) {
  TITLECASE_EXCEPTIONS.set(small, capital);
  TITLECASE_EXCEPTIONS.set(capital, capital);
}
// Georgian Mkhedruli letters are their own titlecase (Unicode 11 gave them uppercase Mtavruli).
for (let c = 0x10d0; c <= 0x10ff; c++) if (c !== 0x10fb && c !== 0x10fc) TITLECASE_EXCEPTIONS.set(c, c);

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * The code points whose toUpperCase() is a full (SpecialCasing.txt) mapping of several code points:
 * ß, ŉ, ǰ, ΐ, ΰ, և, ẖ–ẚ, the Greek with breathing or iota subscript, the ligatures ﬀ–ﬆ and ﬓ–ﬗ.
 * None has a simple titlecase other than itself, except the Greek ones TITLECASE_EXCEPTIONS holds.
 * test/unit/casemap.test.ts checks this list against every code point of the running ICU.
 */
const EXPANDING_UPPERCASE: ReadonlyArray<readonly [number, number]> = [
  [0x00df, 0x00df], [0x0149, 0x0149], [0x01f0, 0x01f0], [0x0390, 0x0390], [0x03b0, 0x03b0],
  [0x0587, 0x0587], [0x1e96, 0x1e9a], [0x1f50, 0x1f50], [0x1f52, 0x1f52], [0x1f54, 0x1f54],
  [0x1f56, 0x1f56], [0x1f80, 0x1faf], [0x1fb2, 0x1fb4], [0x1fb6, 0x1fb7], [0x1fbc, 0x1fbc],
  [0x1fc2, 0x1fc4], [0x1fc6, 0x1fc7], [0x1fcc, 0x1fcc], [0x1fd2, 0x1fd3], [0x1fd6, 0x1fd7],
  [0x1fe2, 0x1fe4], [0x1fe6, 0x1fe7], [0x1ff2, 0x1ff4], [0x1ff6, 0x1ff7], [0x1ffc, 0x1ffc],
  [0xfb00, 0xfb06], [0xfb13, 0xfb17],
];

/** Every code point toUpperCase() does not titlecase: where text has none, toUpperCase() is exact. */
const NOT_BY_UPPERCASE = (() => {
  const hex = (c: number): string => `\\u${c.toString(16).padStart(4, '0')}`;
  const parts = EXPANDING_UPPERCASE.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`));
  for (const c of TITLECASE_EXCEPTIONS.keys()) parts.push(hex(c));
  return new RegExp(`[${parts.join('')}]`, 'g');
})();
const HAS_NOT_BY_UPPERCASE = new RegExp(NOT_BY_UPPERCASE.source);

/** The simple titlecase of one code point (UnicodeData.txt field 14, or the code point itself). */
export function titlecaseOf(char: string): string {
  const code = char.codePointAt(0)!;
  const exception = TITLECASE_EXCEPTIONS.get(code);
  if (exception !== undefined) return String.fromCodePoint(exception);
  const upper = char.toUpperCase();
  if (upper === char) return char;
  // More than one code point: a full (SpecialCasing) mapping, which titlecase does not use.
  const first = upper.codePointAt(0)!;
  return upper.length === (first > 0xffff ? 2 : 1) ? upper : char;
}

/** Every code point of `text` replaced by its simple titlecase; native toUpperCase() between the few exceptions. */
function titlecaseAll(text: string): string {
  if (!HAS_NOT_BY_UPPERCASE.test(text)) return text.toUpperCase();
  let out = '';
  let from = 0;
  // The exceptions are all in the BMP: cutting around one never splits a surrogate pair.
  for (const m of text.matchAll(NOT_BY_UPPERCASE)) {
    out += text.slice(from, m.index).toUpperCase() + titlecaseOf(m[0]);
    from = m.index + 1;
  }
  return out + text.slice(from).toUpperCase();
}

/**
 * The "titlecased canonicalized" form of `text` (RFC 5051 §2): each code point's simple titlecase,
 * then decomposed (NFKD) — equal for strings the collation calls equal, ordered by compareCasemap,
 * and a substring of another's form when the collation's substring operation matches. Plain ASCII
 * takes a fast path, and other text runs through the native toUpperCase() and normalize() except
 * around the few code points whose titlecase toUpperCase() does not give.
 *
 * The decomposition is of the whole string, so combining marks come out in canonical order
 * (Unicode's NFKD): RFC 5051 describes it per code point, "effectively Normalization Form KD", and
 * the two differ only for marks written out of canonical order, which NFKD treats as the same text.
 */
export function casemapKey(text: string): string {
  if (ASCII_ONLY.test(text)) return text.toUpperCase();
  return titlecaseAll(text).normalize('NFKD');
}

/**
 * i;octet order of two prepared keys' UTF-8 forms, which is code point order. Comparing the
 * JavaScript strings directly orders by UTF-16 unit, which puts U+E000–U+FFFF after the
 * supplementary planes (RFC 5051 §2's note); that case is corrected here.
 */
export function compareCasemap(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (0xD800–0xDFFF) stand for code points above 0xFFFF: move them above 0xFFFF's units.
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}
