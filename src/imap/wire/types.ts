/**
 * Shapes shared by the IMAP wire layer (framer, tokenizer, encoder). No I/O, no store.
 */
import type { StreamedLiteral } from './framer.js';

/**
 * What the framer hands on: one complete command as the client sent it — the text segments between
 * literals, and the literal bodies themselves. `text[0]` holds "tag COMMAND args... {n}" up to and
 * including the literal marker, `literals[i]` follows `text[i]`, and `text` has one more element than
 * `literals`. Literal bodies are kept as the chunks they arrived in (never concatenated twice).
 * Text segments are latin1-decoded (one char per byte), so 8-bit bytes survive exactly.
 */
export interface FramedCommand {
  text: string[];
  literals: Buffer[][];
  /** Total bytes of the command (text + literals), for limits and logs. */
  size: number;
  /**
   * The last literal, handed on while it still arrives (APPEND of a large message): its entry in
   * `literals` is empty and the text after it is taken to be empty (the stream fails otherwise).
   */
  streamed?: StreamedLiteral;
}

/** A token of the command grammar (RFC 3501 §9). */
export type Token =
  /**
   * A bare word: atoms, numbers, sequence sets ("1:*,5"), flags ("\\Seen"), list-mailbox patterns
   * ("foo/%"), NIL. A fetch-att or section spec written `BODY.PEEK[HEADER.FIELDS (A B)]<0.100>` is one
   * atom token with `section` (the tokens between the brackets) and `partial` set.
   */
  | { type: 'atom'; value: string; section?: Token[]; partial?: { offset: number; length?: number } }
  /**
   * A quoted string (already unescaped) or a literal. `value` is the exact bytes. For a literal,
   * `chunks` (not enumerable) holds the bytes as they arrived and `value` joins them only when
   * read, so APPEND can hand a large message to the store without a second copy.
   */
  | { type: 'string'; value: Buffer; literal: boolean; binary?: boolean; readonly chunks?: readonly Buffer[]; readonly streamed?: StreamedLiteral }
  /** A parenthesised list. */
  | { type: 'list'; items: Token[] };

/** A parsed command line: the tag, the command name (upper-cased) and the argument tokens. */
export interface ParsedCommand {
  tag: string;
  name: string;
  args: Token[];
}

/**
 * A value to encode in a response. Plain JS values choose their own wire form:
 *   null → NIL; number/bigint → number; string/Buffer → quoted string when safe, else literal;
 *   arrays → parenthesised lists. Wrap with `atom()` to write text as-is, `literal()` to force a
 *   literal (optionally streamed, with its size known up front), `binaryLiteral()` for ~{n}.
 */
export type ImapValue =
  | null
  | number
  | bigint
  | string
  | Buffer
  | ImapValue[]
  | AtomValue
  | LiteralValue
  | ConcatValue;

export interface AtomValue {
  readonly kind: 'atom';
  readonly text: string;
}

export interface LiteralValue {
  readonly kind: 'literal';
  readonly size: number;
  /** Either the bytes, or a function producing them as a stream (called once, when written). */
  readonly data: Buffer | (() => AsyncIterable<Buffer>);
  /** RFC 3516 literal8: written as ~{n}. */
  readonly binary?: boolean;
}

/**
 * Values written next to each other with no space: RFC 3501 §9 body-type-mpart is `1*body SP
 * media-subtype`, so the parts of a multipart BODYSTRUCTURE are adjacent lists: `(...)(...) "MIXED"`.
 */
export interface ConcatValue {
  readonly kind: 'concat';
  readonly items: ImapValue[];
}

export const atom = (text: string): AtomValue => ({ kind: 'atom', text });

export const concat = (items: ImapValue[]): ConcatValue => ({ kind: 'concat', items });

export const literal = (
  data: Buffer | (() => AsyncIterable<Buffer>),
  size?: number,
  binary = false,
): LiteralValue => {
  if (!Buffer.isBuffer(data) && size === undefined) throw new TypeError('a streamed literal needs its size');
  return { kind: 'literal', size: Buffer.isBuffer(data) ? data.length : (size as number), data, binary };
};

/** A response code in brackets, e.g. [UIDVALIDITY 3857529045] or [PERMANENTFLAGS (\Seen \*)]. */
export interface ResponseCode {
  name: string;
  args?: ImapValue[];
}

/** One response as the encoder writes it. */
export type Response =
  /** "* " + values joined by SP, e.g. * 3 FETCH (...) / * LIST (...) "/" INBOX */
  | { type: 'data'; values: ImapValue[] }
  /** "* OK/NO/BAD/BYE/PREAUTH [code] text" */
  | { type: 'status'; tag: '*' | string; status: 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH'; code?: ResponseCode; text: string }
  /** "+ text" continuation request. */
  | { type: 'continuation'; text: string };
