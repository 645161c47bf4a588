/**
 * Bytes in a declared charset → Unicode. The conversion tables come from libmime (iconv-lite plus
 * encoding-japanese for ISO-2022-JP and friends); this file only adds the policy for mislabelled mail.
 */
import { lazyRequire } from '../util/lazy-require.js';

/** Loaded at the first text in another charset than UTF-8/ASCII, not at `import 'postroom'`. */
const libcharset = lazyRequire<typeof import('libmime/lib/charset.js').default>('libmime/lib/charset.js');

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function isUtf8Label(name: string): boolean {
  return /^(utf-?8|(us-)?ascii|ansi_x3\.4-1968|7bit|8bit)$/i.test(name);
}

/**
 * Decodes `buf` from `charset` (default us-ascii, RFC 2045 §5.2). Text labelled ASCII or UTF-8 that
 * is not valid UTF-8 is read as windows-1252, the usual truth behind such labels; unknown charsets
 * fall back the same way rather than failing.
 */
export function decodeCharset(buf: Buffer, charset: string | undefined): string {
  const label = (charset ?? '').trim();
  if (label === '' || isUtf8Label(label)) {
    try {
      return utf8Strict.decode(buf);
    } catch {
      return libcharset().decode(buf, 'windows-1252');
    }
  }
  try {
    return libcharset().decode(buf, label);
  } catch {
    return buf.toString('latin1');
  }
}
