/**
 * Which strings can be flags at all. Flags travel in IMAP as atoms (RFC 3501 §9: flag-keyword =
 * atom; a system flag is "\" atom), so a keyword with a space, a parenthesis, a quote or a non-ASCII
 * character could never be sent back correctly. Input that bypasses the protocol layers (imports,
 * framework code) is checked with this.
 */
import { SYSTEM_FLAGS } from './types.js';

const SYSTEM = new Set(SYSTEM_FLAGS.map((f) => f.toLowerCase()));

/** RFC 3501 §9 ATOM-CHAR: CHAR (0x01–0x7F) except "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]". */
const KEYWORD = /^[\x21\x23-\x24\x26-\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+$/;

export function isValidFlag(flag: string): boolean {
  if (flag.startsWith('\\')) return SYSTEM.has(flag.toLowerCase());
  return flag.length <= 255 && KEYWORD.test(flag);
}
