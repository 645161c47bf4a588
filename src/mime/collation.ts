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

function titlecase(char: string, code: number): string {
  const exception = TITLECASE_EXCEPTIONS.get(code);
  if (exception !== undefined) return String.fromCodePoint(exception);
  const upper = char.toUpperCase();
  if (upper === char) return char;
  // More than one code point: a full (SpecialCasing) mapping, which titlecase does not use.
  const first = upper.codePointAt(0)!;
  return upper.length === (first > 0xffff ? 2 : 1) ? upper : char;
}

/**
 * The "titlecased canonicalized" form of `text` (RFC 5051 §2): equal for strings the collation
 * calls equal, and ordered by compareCasemap. Plain ASCII takes a fast path.
 */
export function casemapKey(text: string): string {
  if (ASCII_ONLY.test(text)) return text.toUpperCase();
  let out = '';
  for (const char of text) out += titlecase(char, char.codePointAt(0)!);
  return out.normalize('NFKD');
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
