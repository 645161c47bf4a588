/**
 * MIME parsing with byte offsets and the text helpers SEARCH needs.
 * (Signatures fixed; implementation in progress.)
 */
import type { MessageStructure } from './types.js';

export type { MessageStructure, MimePart, Envelope, Address, ContentType, Disposition } from './types.js';

/** Parses a raw message into its structure. Never throws: malformed input yields a best-effort tree. */
export function parseMessage(raw: Buffer): MessageStructure {
  void raw;
  throw new Error('not implemented');
}

/** Decodes RFC 2047 encoded-words (and RFC 2231 where relevant) into Unicode text. */
export function decodeHeaderText(value: string): string {
  void value;
  throw new Error('not implemented');
}

/** The header fields of the part whose header is raw[start, end): name as written, value unfolded, raw. */
export function parseHeaderFields(raw: Buffer, start: number, end: number): Array<{ name: string; value: string }> {
  void raw; void start; void end;
  throw new Error('not implemented');
}

/** Decoded values of every header field called `name` (case-insensitive) in the top-level header. */
export function decodedHeaderValues(raw: Buffer, structure: MessageStructure, name: string): string[] {
  void raw; void structure; void name;
  throw new Error('not implemented');
}

/**
 * The searchable text of the message body: every text/* part (and the text of enclosed messages),
 * transfer-decoded and converted to Unicode from its charset.
 */
export function bodyText(raw: Buffer, structure: MessageStructure): string {
  void raw; void structure;
  throw new Error('not implemented');
}
