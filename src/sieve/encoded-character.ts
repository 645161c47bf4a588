/**
 * encoded-character (RFC 5228 §2.4.2.4): "${hex: 41 42}" and "${unicode: 1F600}" in strings of a
 * script that requires it. A sequence that is not well formed is left as written; a Unicode value
 * outside 0–D7FF and E000–10FFFF is an error.
 */
const ENCODED = /\$\{(hex|unicode):([\s0-9a-fA-F]*)\}/gi;

export class EncodedCharacterError extends Error {}

export function decodeEncodedCharacters(s: string): string {
  if (!s.includes('${')) return s;
  return s.replace(ENCODED, (whole: string, kind: string, body: string) => {
    const words = body.trim() === '' ? [] : body.trim().split(/\s+/);
    if (words.length === 0) return '';
    if (kind.toLowerCase() === 'hex') {
      if (words.some((w) => w.length > 2 && !/^0*[0-9a-f]{1,2}$/i.test(w))) return whole;
      const bytes = Buffer.from(words.map((w) => parseInt(w, 16)));
      return bytes.toString('utf8');
    }
    let out = '';
    for (const w of words) {
      const cp = w.length > 8 && !/^0+/.test(w.slice(0, w.length - 8)) ? Infinity : parseInt(w, 16);
      if (!(cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0x10ffff))) {
        throw new EncodedCharacterError(`\${unicode:${w}} is not a Unicode character (RFC 5228 §2.4.2.4)`);
      }
      out += String.fromCodePoint(cp);
    }
    return out;
  });
}
