/**
 * Flag names as clients write them in STORE, APPEND and SEARCH KEYWORD. Shared by those commands so
 * the three agree on spelling and on what is rejected.
 */
import { ParseError } from '../wire/args.js';
import { SYSTEM_FLAGS, type Flag } from '../../store/types.js';
import type { Token } from '../wire/types.js';

const SYSTEM_BY_UPPER = new Map<string, string>(SYSTEM_FLAGS.map((f) => [f.toUpperCase(), f]));

/**
 * RFC 3501 §9: flag-keyword is an atom, so none of the atom-specials — "(" ")" "{" SP CTL "%" "*"
 * DQUOTE "\" "]" — nor 8-bit bytes. The tokenizer already split on most of them; the rest are
 * checked here because a keyword ends up stored and echoed in every FETCH FLAGS.
 */
const KEYWORD = /^[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/;

export type ParsedFlag = { kind: 'flag'; flag: Flag } | { kind: 'recent' };

/**
 * Normalises one flag: system flags are case-insensitive and come back in their canonical
 * spelling ("\seen" → "\Seen"); `\Recent` is reported separately because it is a session property
 * the client may not set (RFC 3501 §2.3.2); any other backslash name, including `\*`, is a
 * ParseError, as is a keyword with characters an atom cannot hold.
 */
export function parseFlag(text: string): ParsedFlag {
  if (text.startsWith('\\')) {
    const upper = text.toUpperCase();
    if (upper === '\\RECENT') return { kind: 'recent' };
    const system = SYSTEM_BY_UPPER.get(upper);
    if (!system) throw new ParseError(`Unknown system flag ${text.slice(0, 40)}`);
    return { kind: 'flag', flag: system };
  }
  if (!KEYWORD.test(text)) throw new ParseError(`Invalid keyword ${JSON.stringify(text.slice(0, 40))}`);
  return { kind: 'flag', flag: text };
}

/** De-duplicates flags case-insensitively, keeping the first spelling (keywords are case-insensitive in practice). */
export function uniqueFlags(flags: Flag[]): Flag[] {
  const seen = new Set<string>();
  const out: Flag[] = [];
  for (const f of flags) {
    const k = f.toUpperCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(f);
    }
  }
  return out;
}

/**
 * Flags given as tokens (the items of a flag-list, or STORE's bare flags). `\Recent` is dropped:
 * RFC 3501 §2.3.2 makes it a session property no client can set or clear.
 */
export function flagsFromTokens(tokens: Token[]): Flag[] {
  const flags: Flag[] = [];
  for (const t of tokens) {
    if (t.type !== 'atom' || t.section || t.partial) throw new ParseError('Flags must be atoms');
    const parsed = parseFlag(t.value);
    if (parsed.kind === 'flag') flags.push(parsed.flag);
  }
  return uniqueFlags(flags);
}
