// Minimal typings for the parts of libmime (plain CommonJS, no bundled types) that src/mime uses.
declare module 'libmime' {
  interface Libmime {
    /** Decodes every RFC 2047 encoded-word in `str`, joining adjacent words of the same charset. */
    decodeWords(str: string): string;
  }
  const libmime: Libmime;
  export default libmime;
}

declare module 'libmime/lib/charset.js' {
  interface LibCharset {
    /** Bytes in `charset` → Unicode; falls back to UTF-8 for unknown charsets instead of throwing. */
    decode(buf: Buffer, charset?: string): string;
    /** Canonical name for common misspellings ("win-1257" → "WINDOWS-1257"). */
    normalizeCharset(charset: string): string;
  }
  const charset: LibCharset;
  export default charset;
}
