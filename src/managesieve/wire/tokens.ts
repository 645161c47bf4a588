/**
 * The tokens of one ManageSieve command (RFC 5804 §4): atoms (command names, numbers, ACTIVE)
 * and strings, quoted (at most 1024 octets, `\"` and `\\` escaped) or literal.
 */
import type { Segment } from './framer.js';

export type Token = { kind: 'atom'; value: string } | { kind: 'string'; value: Buffer };

export class SyntaxError extends Error {
  override readonly name = 'ManageSieveSyntaxError';
}

const MAX_QUOTED = 1024;
const LITERAL_AT_END = /\{(\d{1,10})\+?\}$/;

function isAtomChar(c: number): boolean {
  // ATOM-CHAR: any CHAR except ( ) { SP CTL " \
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x22 && c !== 0x5c;
}

/** Tokens of the command; literals take the place of their `{n+}` markers. */
export function tokenize(segments: readonly Segment[]): Token[] {
  const tokens: Token[] = [];
  for (const segment of segments) {
    if (segment.kind === 'literal') {
      tokens.push({ kind: 'string', value: segment.data });
      continue;
    }
    let text = segment.text;
    const marker = LITERAL_AT_END.exec(text.toString('latin1'));
    if (marker) text = text.subarray(0, text.length - marker[0].length);
    let i = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === 0x20) {
        i++;
        continue;
      }
      if (c === 0x22) {
        const parts: number[] = [];
        i++;
        for (;;) {
          if (i >= text.length) throw new SyntaxError('Unterminated quoted string');
          const q = text[i]!;
          if (q === 0x22) break;
          if (q === 0x5c) {
            const next = text[i + 1];
            if (next !== 0x22 && next !== 0x5c) throw new SyntaxError('Invalid escape in quoted string');
            parts.push(next);
            i += 2;
          } else {
            if (q === 0x0d || q === 0x0a || q === 0) throw new SyntaxError('Invalid character in quoted string');
            parts.push(q);
            i++;
          }
          if (parts.length > MAX_QUOTED) throw new SyntaxError('Quoted string too long (at most 1024 octets; use a literal)');
        }
        i++;
        tokens.push({ kind: 'string', value: Buffer.from(parts) });
        if (i < text.length && text[i] !== 0x20) throw new SyntaxError('Expected a space after a string');
        continue;
      }
      if (!isAtomChar(c)) throw new SyntaxError('Unexpected character');
      const start = i;
      while (i < text.length && isAtomChar(text[i]!)) i++;
      tokens.push({ kind: 'atom', value: text.subarray(start, i).toString('latin1') });
      if (i < text.length && text[i] !== 0x20) throw new SyntaxError('Unexpected character');
    }
    // A literal follows this text (or, for the marker, the framer added its data as the next segment).
  }
  return tokens;
}

/** Reads a command's arguments with the checks every command needs. */
export class Args {
  private i = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  get remaining(): number {
    return this.tokens.length - this.i;
  }

  /** A string argument (quoted or literal), as UTF-8 text; invalid UTF-8 is a syntax error. */
  string(what: string): string {
    return decodeUtf8(this.bytes(what), what);
  }

  bytes(what: string): Buffer {
    const t = this.tokens[this.i];
    if (!t || t.kind !== 'string') throw new SyntaxError(`Expected ${what} as a string`);
    this.i++;
    return t.value;
  }

  optionalString(what: string): string | undefined {
    return this.remaining > 0 ? this.string(what) : undefined;
  }

  /** RFC 5804 §4 number: 0 ≤ n < 2^32, no leading zeros. */
  number(what: string): number {
    const t = this.tokens[this.i];
    if (!t || t.kind !== 'atom' || !/^(0|[1-9]\d{0,9})$/.test(t.value) || Number(t.value) > 0xffffffff) {
      throw new SyntaxError(`Expected ${what} as a number`);
    }
    this.i++;
    return Number(t.value);
  }

  end(): void {
    if (this.remaining > 0) throw new SyntaxError('Too many arguments');
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new SyntaxError(`${what} is not valid UTF-8`);
  }
}
