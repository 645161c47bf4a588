/**
 * The tokens of RFC 5228 §8.1: identifiers, tags, numbers (with K/M/G), quoted and multi-line
 * strings, the special characters, with white space and both kinds of comment skipped. Every
 * token carries its source offset; every error names the offset where it was found.
 */
import { SieveSyntaxError } from './position.js';

export type Token =
  | { type: 'identifier'; value: string; offset: number }
  | { type: 'tag'; value: string; offset: number }
  | { type: 'number'; value: number; offset: number }
  | { type: 'string'; value: string; offset: number; multiline: boolean }
  | { type: 'special'; value: '[' | ']' | '(' | ')' | '{' | '}' | ',' | ';'; offset: number }
  | { type: 'end'; offset: number };

const QUANTIFIERS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isIdentStart = (c: number): boolean => isAlpha(c) || c === 0x5f;
const isIdentChar = (c: number): boolean => isIdentStart(c) || isDigit(c);

export class Lexer {
  private pos = 0;
  private peeked: Token | null = null;

  constructor(private readonly src: string) {}

  peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  private skipSpaceAndComments(): void {
    const s = this.src;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
        this.pos++;
      } else if (c === 0x23) {
        // hash-comment: to the end of the line
        const nl = s.indexOf('\n', this.pos);
        this.pos = nl < 0 ? s.length : nl + 1;
      } else if (c === 0x2f && s.charCodeAt(this.pos + 1) === 0x2a) {
        // bracket-comment: "/*" … "*/", not nested (RFC 5228 §2.3)
        const close = s.indexOf('*/', this.pos + 2);
        if (close < 0) throw new SieveSyntaxError(this.pos, 'unterminated comment: "/*" without "*/"');
        this.pos = close + 2;
      } else {
        return;
      }
    }
  }

  private read(): Token {
    this.skipSpaceAndComments();
    const s = this.src;
    const start = this.pos;
    if (start >= s.length) return { type: 'end', offset: start };
    const c = s.charCodeAt(start);
    const ch = s[start]!;
    if ('[](){},;'.includes(ch)) {
      this.pos++;
      return { type: 'special', value: ch as '[', offset: start };
    }
    if (c === 0x22) return this.quoted(start);
    if (isDigit(c)) return this.number(start);
    if (c === 0x3a) {
      let end = start + 1;
      if (!isIdentStart(s.charCodeAt(end))) throw new SieveSyntaxError(start, 'a tag is ":" followed by a name, as ":is"');
      while (isIdentChar(s.charCodeAt(end))) end++;
      this.pos = end;
      return { type: 'tag', value: s.slice(start + 1, end).toLowerCase(), offset: start };
    }
    if (isIdentStart(c)) {
      let end = start;
      while (isIdentChar(s.charCodeAt(end))) end++;
      const word = s.slice(start, end);
      if (word.toLowerCase() === 'text' && s[end] === ':') return this.multiline(start, end + 1);
      this.pos = end;
      return { type: 'identifier', value: word.toLowerCase(), offset: start };
    }
    const shown = /[\x21-\x7e]/.test(ch) ? `"${ch}"` : `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new SieveSyntaxError(start, `unexpected ${shown}`);
  }

  private number(start: number): Token {
    const s = this.src;
    let end = start;
    while (isDigit(s.charCodeAt(end))) end++;
    let value = Number(s.slice(start, end));
    const q = QUANTIFIERS[(s[end] ?? '').toLowerCase()];
    if (q !== undefined) {
      value *= q;
      end++;
    }
    if (isIdentChar(s.charCodeAt(end))) throw new SieveSyntaxError(end, 'a number may only be followed by K, M or G');
    // RFC 5228 §2.4.1 asks for at least 2^31; larger values must not silently lose precision.
    if (!Number.isSafeInteger(value)) throw new SieveSyntaxError(start, 'number too large');
    this.pos = end;
    return { type: 'number', value, offset: start };
  }

  /** quoted-string (RFC 5228 §2.4.2): "\"" and "\\" are escapes; any other "\x" is "x". */
  private quoted(start: number): Token {
    const s = this.src;
    let out = '';
    let i = start + 1;
    let from = i;
    for (;;) {
      if (i >= s.length) throw new SieveSyntaxError(start, 'unterminated string: no closing quote');
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        out += s.slice(from, i);
        if (i + 1 >= s.length) throw new SieveSyntaxError(start, 'unterminated string: no closing quote');
        out += s[i + 1];
        i += 2;
        from = i;
        continue;
      }
      i++;
    }
    out += s.slice(from, i);
    this.pos = i + 1;
    return { type: 'string', value: normaliseLineEnds(out), offset: start, multiline: false };
  }

  /**
   * multi-line (RFC 5228 §2.4.2, §8.1): "text:", optional blanks and a comment, a line end, then
   * lines up to one holding only "."; a line starting with ".." loses its first dot.
   */
  private multiline(start: number, afterColon: number): Token {
    const s = this.src;
    let i = afterColon;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === '#') {
      const nl = s.indexOf('\n', i);
      i = nl < 0 ? s.length : nl;
    }
    if (s[i] === '\r' && s[i + 1] === '\n') i += 2;
    else if (s[i] === '\n') i++;
    else throw new SieveSyntaxError(i, 'after "text:" only a comment may follow on the same line');
    const lines: string[] = [];
    for (;;) {
      if (i >= s.length) throw new SieveSyntaxError(start, 'unterminated multi-line string: no line with a lone "."');
      const nl = s.indexOf('\n', i);
      const lineEnd = nl < 0 ? s.length : nl;
      const line = s.slice(i, lineEnd).replace(/\r$/, '');
      i = nl < 0 ? s.length : nl + 1;
      if (line === '.') break;
      if (nl < 0) throw new SieveSyntaxError(start, 'unterminated multi-line string: no line with a lone "."');
      lines.push(line.startsWith('.') ? line.slice(1) : line);
    }
    this.pos = i;
    return { type: 'string', value: lines.map((l) => `${l}\r\n`).join(''), offset: start, multiline: true };
  }
}

/** Strings in a script are text; whichever line ends the file had, values carry CRLF, as mail does. */
function normaliseLineEnds(s: string): string {
  return s.includes('\n') ? s.replace(/\r?\n/g, '\r\n') : s;
}
