/**
 * Turns a framed command into tag, command name and argument tokens (RFC 3501 §9 grammar, read
 * leniently where clients are known to differ: extra spaces, 8-bit text).
 *
 * Lists are parsed with an explicit stack, so hostile nesting ends in a clean error at
 * limits.maxNesting rather than a stack overflow.
 */
import { ParseError } from './args.js';
import type { FramedCommand, ParsedCommand, Token } from './types.js';
import type { ImapLimits } from '../limits.js';

export class CommandSyntaxError extends ParseError {
  /** The tag, when one could be read: the dispatcher answers `tag BAD`, else `* BAD`. */
  readonly tag?: string;
  constructor(message: string, tag?: string) {
    super(message);
    this.name = 'CommandSyntaxError';
    if (tag !== undefined) this.tag = tag;
  }
}

/** A limit was hit: never retried as another reading of the same bytes. */
class TokenLimitError extends ParseError {}

/**
 * A "]" met inside a parenthesised list of a section. The attempt fails, and so does every attempt
 * starting before the "(" of the innermost list still open (`seg`, `pos`); one starting inside that
 * list may not.
 */
class SectionListError extends ParseError {
  constructor(
    readonly seg: number,
    readonly pos: number,
  ) {
    super('Unbalanced parentheses in section');
  }
}

const SP = 0x20;
const LPAREN = 0x28;
const RPAREN = 0x29;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const TILDE = 0x7e;
const EOL = -1;

const isCtl = (c: number): boolean => c < 0x20 || c === 0x7f;

/** RFC 3501 §9 tag: ASTRING-CHAR except "+", i.e. no atom-specials other than "]". */
function isTagChar(c: number): boolean {
  return !(isCtl(c) || c > 0x7e || c === SP || c === LPAREN || c === RPAREN || c === LBRACE ||
    c === 0x25 /* % */ || c === 0x2a /* * */ || c === DQUOTE || c === BACKSLASH || c === 0x2b /* + */);
}

/** Reads across text segments; a literal marker at the end of segment i stands for literals[i]. */
class Cursor {
  seg = 0;
  pos = 0;
  tokens = 0;
  depth = 0;
  /**
   * Where a failed `[section]` attempt stopped, in segment `seg`. An attempt starting before that
   * point scans the same bytes to the same "]" (or the same error) and fails the same way, so it is
   * not made: without this, `x[ x[ x[ …` without a "]" rescans the line once per word (quadratic).
   */
  sectionFailed: { seg: number; pos: number } | null = null;
  /** Where the token being read starts (set by parseSequence). */
  tokenStart = 0;
  constructor(
    readonly cmd: FramedCommand,
    readonly limits: ImapLimits,
  ) {}

  get line(): string {
    return this.cmd.text[this.seg] ?? '';
  }

  /** Char code at the cursor; EOL at the end of a segment. */
  peek(offset = 0): number {
    const p = this.pos + offset;
    return p < this.line.length ? this.line.charCodeAt(p) : EOL;
  }

  atEndOfCommand(): boolean {
    return this.pos >= this.line.length && this.seg >= this.cmd.text.length - 1;
  }

  skipSpaces(): void {
    while (this.peek() === SP) this.pos++;
  }

  countToken(): void {
    if (++this.tokens > this.limits.maxTokens) throw new TokenLimitError('Too many tokens in command');
  }

  save(): [number, number, number] {
    return [this.seg, this.pos, this.tokens];
  }

  restore([seg, pos, tokens]: [number, number, number]): void {
    this.seg = seg;
    this.pos = pos;
    this.tokens = tokens;
  }
}

export function parseCommand(cmd: FramedCommand, limits: ImapLimits): ParsedCommand {
  const cur = new Cursor(cmd, limits);
  const tagStart = cur.pos;
  while (cur.peek() !== EOL && cur.peek() !== SP) {
    if (!isTagChar(cur.peek())) throw new CommandSyntaxError('Invalid tag');
    cur.pos++;
  }
  if (cur.pos === tagStart) throw new CommandSyntaxError('Missing tag');
  const tag = cur.line.slice(tagStart, cur.pos);
  if (cur.peek() !== SP) throw new CommandSyntaxError('Missing command', tag);
  try {
    cur.skipSpaces();
    const nameStart = cur.pos;
    while (cur.peek() !== EOL && cur.peek() !== SP) {
      const c = cur.peek();
      if (!isTagChar(c) && c !== 0x2b) throw new ParseError('Invalid command name');
      cur.pos++;
    }
    if (cur.pos === nameStart) throw new ParseError('Missing command');
    const name = cur.line.slice(nameStart, cur.pos).toUpperCase();
    const args = parseSequence(cur, false);
    return { tag, name, args };
  } catch (err) {
    if (err instanceof CommandSyntaxError) throw err;
    if (err instanceof ParseError) throw new CommandSyntaxError(err.message, tag);
    throw err;
  }
}

/**
 * The tokens of a command's remainder with neither tag nor name: the rest of an APPEND after a
 * streamed message (StreamedLiteral.rest(), RFC 3502 MULTIAPPEND).
 */
export function parseArguments(cmd: FramedCommand, limits: ImapLimits): Token[] {
  return parseSequence(new Cursor(cmd, limits), false);
}

/**
 * Tokens up to the end of the command, or (inSection) up to the "]" that closes a section, which is
 * consumed.
 */
function parseSequence(cur: Cursor, inSection: boolean): Token[] {
  const top: Token[] = [];
  const stack: Token[][] = [top];
  /** Where each open list's "(" is, [segment, position], for SectionListError. */
  const opened: Array<[number, number]> = [];
  for (;;) {
    cur.skipSpaces();
    cur.tokenStart = cur.pos;
    const c = cur.peek();
    const items = stack[stack.length - 1]!;
    if (c === EOL) {
      if (!cur.atEndOfCommand()) throw new ParseError('Unexpected literal');
      if (stack.length > 1) throw new ParseError('Unbalanced parentheses: missing ")"');
      if (inSection) throw new ParseError('Missing "]"');
      return top;
    }
    if (inSection && c === RBRACKET) {
      if (stack.length > 1) throw new SectionListError(...opened[opened.length - 1]!);
      cur.pos++;
      return top;
    }
    if (c === LPAREN) {
      opened.push([cur.seg, cur.pos]);
      cur.pos++;
      cur.countToken();
      if (++cur.depth > cur.limits.maxNesting) throw new TokenLimitError('Lists nested too deeply');
      const list: Token[] = [];
      items.push({ type: 'list', items: list });
      stack.push(list);
    } else if (c === RPAREN) {
      if (stack.length === 1) throw new ParseError('Unbalanced parentheses: unexpected ")"');
      cur.pos++;
      cur.depth--;
      stack.pop();
      opened.pop();
    } else {
      cur.countToken();
      items.push(parseScalar(cur, inSection));
    }
  }
}

function parseScalar(cur: Cursor, inSection: boolean): Token {
  const c = cur.peek();
  if (c === DQUOTE) return parseQuoted(cur);
  if (c === LBRACE || (c === TILDE && cur.peek(1) === LBRACE)) return parseLiteral(cur);
  return parseBareWord(cur, inSection);
}

function parseQuoted(cur: Cursor): Token {
  const line = cur.line;
  let i = cur.pos + 1;
  let out = '';
  let runStart = i;
  for (;;) {
    if (i >= line.length) throw new ParseError('Unterminated quoted string');
    const c = line.charCodeAt(i);
    if (c === DQUOTE) break;
    if (c === 0x0d || c === 0x0a || c === 0) throw new ParseError('Invalid character in quoted string');
    if (c === BACKSLASH) {
      // RFC 3501 §9 quoted-specials: only \" and \\ are escapes.
      const next = line.charCodeAt(i + 1);
      if (next !== DQUOTE && next !== BACKSLASH) throw new ParseError('Invalid escape in quoted string');
      out += line.slice(runStart, i) + line[i + 1];
      i += 2;
      runStart = i;
      continue;
    }
    i++;
  }
  out += line.slice(runStart, i);
  cur.pos = i + 1;
  return { type: 'string', value: Buffer.from(out, 'latin1'), literal: false };
}

function parseLiteral(cur: Cursor): Token {
  const line = cur.line;
  const binary = cur.peek() === TILDE;
  const m = /^~?\{(\d+)\+?\}$/.exec(line.slice(cur.pos));
  if (!m || cur.seg >= cur.cmd.text.length - 1) throw new ParseError('Invalid literal');
  const chunks = cur.cmd.literals[cur.seg] ?? [];
  // The command's last literal may still be arriving (APPEND of a large message): only the
  // command that asked for it reads it, through `streamed`.
  const streamed = cur.cmd.streamed && cur.seg === cur.cmd.literals.length - 1 ? cur.cmd.streamed : undefined;
  let size = 0;
  for (const c of chunks) size += c.length;
  if (streamed) size = streamed.size;
  if (size !== Number(m[1])) throw new ParseError('Literal size mismatch');
  cur.seg++;
  cur.pos = 0;
  const token = (binary ? { type: 'string', literal: true, binary: true } : { type: 'string', literal: true }) as Token & { type: 'string' };
  if (streamed) {
    Object.defineProperty(token, 'value', {
      enumerable: true,
      get: () => {
        throw new ParseError('This literal is streamed to the command that reads it');
      },
    });
    Object.defineProperty(token, 'streamed', { enumerable: false, value: streamed });
    return token;
  }
  let joined: Buffer | undefined;
  Object.defineProperty(token, 'value', {
    enumerable: true,
    get: () => (joined ??= chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
  });
  Object.defineProperty(token, 'chunks', { enumerable: false, value: chunks });
  return token;
}

/** Ends a bare word: SP, parentheses, end of line; "]" too inside a section. */
function endsWord(c: number, inSection: boolean): boolean {
  return c === EOL || c === SP || c === LPAREN || c === RPAREN || (inSection && c === RBRACKET);
}

function atomText(raw: string): string {
  // Atoms are US-ASCII (RFC 3501 §9); 8-bit bytes are read as UTF-8 to be lenient with clients.
  return /[^\x00-\x7f]/.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
}

function parseBareWord(cur: Cursor, inSection: boolean): Token {
  const start = cur.pos;
  for (;;) {
    const c = cur.peek();
    if (endsWord(c, inSection)) break;
    if (c === DQUOTE || c === LBRACE || isCtl(c)) throw new ParseError('Invalid character in atom');
    if (c === LBRACKET && cur.pos > start && !inSection) {
      const value = atomText(cur.line.slice(start, cur.pos));
      const saved = cur.save();
      const savedDepth = cur.depth;
      const withSection = tryParseSection(cur, value);
      if (withSection) return withSection;
      // Not a section after all (e.g. a mailbox named "a[b]c"): read it as a plain word.
      cur.restore(saved);
      cur.depth = savedDepth;
      return parsePlainWord(cur, start);
    }
    cur.pos++;
  }
  if (cur.pos === start) throw new ParseError('Expected an argument');
  return { type: 'atom', value: atomText(cur.line.slice(start, cur.pos)) };
}

function parsePlainWord(cur: Cursor, start: number): Token {
  for (;;) {
    const c = cur.peek();
    if (endsWord(c, false)) break;
    if (c === DQUOTE || c === LBRACE || isCtl(c)) throw new ParseError('Invalid character in atom');
    cur.pos++;
  }
  return { type: 'atom', value: atomText(cur.line.slice(start, cur.pos)) };
}

/**
 * `[section]` and an optional `<offset>` / `<offset.length>` after a word such as BODY.PEEK.
 *
 * A failed attempt is remembered (Cursor.sectionFailed) so that the attempts of later words do not
 * scan the same bytes again. The reasoning: before the token where an attempt failed there is no
 * "]" (the first one ends the section), so the words the caller then reads are the tokens this
 * attempt read. A later attempt that starts at a "[" inside one of those words reads, from the end of
 * that word on, the same tokens, at the same list depth or shallower, up to the same failure:
 * - an error inside a token: the same token, the same error;
 * - the end of the line, or a "]" followed by something that may not follow a section: the same;
 * - a "]" inside a list: fails too if it starts before that list's "(" (it is still inside it).
 */
function tryParseSection(cur: Cursor, value: string): Token | null {
  const failed = cur.sectionFailed;
  if (failed && failed.seg === cur.seg && cur.pos < failed.pos) return null;
  const seg = cur.seg;
  const fail = (pos: number): null => {
    cur.sectionFailed = { seg, pos };
    return null;
  };
  cur.pos++; // "["
  let section: Token[];
  try {
    section = parseSequence(cur, true);
  } catch (err) {
    if (err instanceof SectionListError) return fail(err.seg === seg ? err.pos : cur.seg === seg ? cur.tokenStart : Infinity);
    if (err instanceof ParseError && !(err instanceof TokenLimitError)) return fail(cur.seg === seg ? cur.tokenStart : Infinity);
    throw err;
  }
  // From here on a failure is about what follows the "]" that ended the section.
  const closer = cur.seg === seg ? cur.pos - 1 : Infinity;
  let partial: { offset: number; length?: number } | undefined;
  if (cur.peek() === 0x3c /* < */) {
    // number64 (RFC 9051 Appendix E item 1): up to 2^63 - 1. Offsets and lengths past what a
    // JavaScript number holds exactly lie beyond any message, so they are held as that maximum.
    const m = /^<(\d{1,19})(?:\.(\d{1,19}))?>/.exec(cur.line.slice(cur.pos, cur.pos + 48));
    if (!m || !isNumber64(m[1]!) || (m[2] !== undefined && !isNumber64(m[2]))) return fail(closer);
    const length = m[2] === undefined ? undefined : safeNumber(m[2]);
    // RFC 3501 §9 writes the length as nz-number, but §6.4.5 defines what a partial beyond the
    // data returns (an empty string) and clients do send <n.0>; like Dovecot we answer it: "".
    partial = length === undefined ? { offset: safeNumber(m[1]!) } : { offset: safeNumber(m[1]!), length };
    cur.pos += m[0].length;
  }
  if (!endsWord(cur.peek(), false)) return fail(closer);
  return partial ? { type: 'atom', value, section, partial } : { type: 'atom', value, section };
}

const NUMBER64_MAX = 9223372036854775807n;

function isNumber64(digits: string): boolean {
  return BigInt(digits) <= NUMBER64_MAX;
}

function safeNumber(digits: string): number {
  return Math.min(Number(digits), Number.MAX_SAFE_INTEGER);
}
