/**
 * A cursor over a command's argument tokens, used by every command's pure `parse()`.
 * Each reader either returns a value or throws ParseError, which the dispatcher answers with BAD.
 */
import type { Token } from './types.js';
import { parseSequenceSet, type SequenceSet } from './sequence-set.js';

export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

/**
 * The text of an atom that the tokenizer read as word + section, e.g. the mailbox name "foo[bar]"
 * ("[" is an ATOM-CHAR, RFC 3501 §9). Only shapes that can be rebuilt exactly are accepted.
 */
function plainAtomText(t: Token): string | undefined {
  if (t.type !== 'atom' || t.partial) return undefined;
  if (!t.section) return t.value;
  if (t.section.length === 0) return `${t.value}[]`;
  const only = t.section.length === 1 ? t.section[0] : undefined;
  if (only?.type === 'atom' && !only.section && !only.partial) return `${t.value}[${only.value}]`;
  return undefined;
}

export class ArgReader {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  get remaining(): number {
    return this.tokens.length - this.pos;
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** Any token. */
  next(what = 'argument'): Token {
    const t = this.tokens[this.pos];
    if (!t) throw new ParseError(`Missing ${what}`);
    this.pos++;
    return t;
  }

  /** An atom (case preserved). Rejects strings and lists. */
  atom(what = 'atom'): string {
    const t = this.next(what);
    if (t.type !== 'atom' || t.section || t.partial) throw new ParseError(`Expected ${what}`);
    return t.value;
  }

  /** An atom or string, as UTF-8 text (astring). */
  astring(what = 'string'): string {
    const t = this.next(what);
    const text = plainAtomText(t);
    if (text !== undefined) return text;
    if (t.type === 'string') return t.value.toString('utf8');
    throw new ParseError(`Expected ${what}`);
  }

  /** An astring as raw bytes (for literals whose bytes matter, e.g. APPEND message data). */
  bytes(what = 'string'): Buffer {
    const t = this.next(what);
    if (t.type === 'string') return t.value;
    const text = plainAtomText(t);
    if (text !== undefined) return Buffer.from(text, 'utf8');
    throw new ParseError(`Expected ${what}`);
  }

  /** A quoted string or literal only (RFC 3501 "string"). */
  string(what = 'string'): string {
    const t = this.next(what);
    if (t.type !== 'string') throw new ParseError(`Expected ${what} as quoted string or literal`);
    return t.value.toString('utf8');
  }

  /** nstring: NIL or a string. */
  nstring(what = 'string'): string | null {
    const t = this.peek();
    if (t && t.type === 'atom' && t.value.toUpperCase() === 'NIL') {
      this.pos++;
      return null;
    }
    return this.string(what);
  }

  /** A non-negative number (up to 2^53). */
  number(what = 'number'): number {
    const v = this.atom(what);
    if (!/^\d{1,16}$/.test(v)) throw new ParseError(`Expected ${what}`);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new ParseError(`${what} out of range`);
    return n;
  }

  /** nz-number: 1..2^32-1 */
  nzNumber(what = 'number'): number {
    const n = this.number(what);
    if (n < 1 || n > 0xffffffff) throw new ParseError(`${what} out of range`);
    return n;
  }

  sequenceSet(what = 'sequence set'): SequenceSet {
    return parseSequenceSet(this.atom(what));
  }

  /** A parenthesised list, returned as a reader over its items. */
  list(what = 'list'): ArgReader {
    const t = this.next(what);
    if (t.type !== 'list') throw new ParseError(`Expected ${what} in parentheses`);
    return new ArgReader(t.items);
  }

  /** True (and consumed) when the next token is a list. */
  isList(): boolean {
    return this.peek()?.type === 'list';
  }

  /** Consumes the next atom if it equals `word` (case-insensitive). */
  acceptAtom(word: string): boolean {
    const t = this.peek();
    if (t && t.type === 'atom' && !t.section && t.value.toUpperCase() === word.toUpperCase()) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Fails when any argument is left over. */
  end(): void {
    if (this.pos < this.tokens.length) throw new ParseError('Too many arguments');
  }
}
