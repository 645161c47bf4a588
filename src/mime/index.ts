/**
 * MIME parsing with byte offsets and the text helpers SEARCH needs.
 */
import { lazyRequire } from '../util/lazy-require.js';

/** libmime loads at the first encoded-word, not at `import 'postroom'`. */
const libmime = lazyRequire<typeof import('libmime').default>('libmime');
import type { MessageStructure } from './types.js';
import { headerFields, scanFields, fieldValue } from './header.js';
import { parseMessage as parse } from './parse.js';
import { bodyText as text } from './body-text.js';
import { addressSearchText } from './address-text.js';
import { computeSortKeys, type MessageSortKeys } from './sort-keys.js';

export type { MessageStructure, MimePart, Envelope, Address, ContentType, Disposition } from './types.js';
export type { MessageSortKeys } from './sort-keys.js';

/** Parses a raw message into its structure. Never throws: malformed input yields a best-effort tree. */
export function parseMessage(raw: Buffer): MessageStructure {
  return parse(raw);
}

/** Decodes RFC 2047 encoded-words (and RFC 2231 where relevant) into Unicode text. */
export function decodeHeaderText(value: string): string {
  if (!value.includes('=?')) return value;
  try {
    return libmime().decodeWords(value);
  } catch {
    return value;
  }
}

/** The header fields of the part whose header is raw[start, end): name as written, value unfolded, raw. */
export function parseHeaderFields(raw: Buffer, start: number, end: number): Array<{ name: string; value: string }> {
  return headerFields(raw, Math.max(0, start), Math.min(end, raw.length));
}

/** Decoded values of every header field called `name` (case-insensitive) in the top-level header. */
export function decodedHeaderValues(raw: Buffer, structure: MessageStructure, name: string): string[] {
  const wanted = name.toLowerCase();
  const end = Math.min(structure.root.bodyStart, raw.length);
  const out: string[] = [];
  for (const f of scanFields(raw, 0, end)) {
    if (f.name.length === wanted.length && f.name.toLowerCase() === wanted) out.push(decodeHeaderText(fieldValue(raw, f)));
  }
  return out;
}

/** Header fields whose SEARCH keys (FROM, TO, CC, BCC) match parsed addresses rather than raw text. */
const ADDRESS_FIELDS: ReadonlySet<string> = new Set(['from', 'to', 'cc', 'bcc']);

/**
 * The text SEARCH compares for every field called `name` in the top-level header: decoded text,
 * and for address fields the addresses written out without comments or folding (address-text.ts).
 * Every occurrence counts: a field repeated in a malformed message is found by either value.
 */
export function searchHeaderValues(raw: Buffer, structure: MessageStructure, name: string): string[] {
  const wanted = name.toLowerCase();
  if (!ADDRESS_FIELDS.has(wanted)) return decodedHeaderValues(raw, structure, name);
  const end = Math.min(structure.root.bodyStart, raw.length);
  const out: string[] = [];
  for (const f of scanFields(raw, 0, end)) {
    if (f.name.length === wanted.length && f.name.toLowerCase() === wanted) out.push(addressSearchText(fieldValue(raw, f), decodeHeaderText));
  }
  return out;
}

/** The SORT and THREAD keys of a message (sort-keys.ts), computed from its bytes and structure. */
export function messageSortKeys(raw: Buffer, structure: MessageStructure): MessageSortKeys {
  return computeSortKeys(raw, structure, decodeHeaderText);
}

/**
 * The searchable text of the message body: every text/* part (and the text of enclosed messages),
 * transfer-decoded and converted to Unicode from its charset. HTML parts are reduced to their text
 * (tags dropped, entities decoded) — see body-text.ts.
 */
export function bodyText(raw: Buffer, structure: MessageStructure): string {
  return text(raw, structure);
}
export { messagePreview, previewBytesNeeded, previewOfText, PREVIEW_MAX_CHARS } from './preview.js';
