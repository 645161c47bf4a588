/**
 * The decoded header text SEARCH compares against, computed once at APPEND time so FROM/TO/CC/BCC/
 * SUBJECT searches run as SQL substring scans instead of re-parsing every message.
 *
 * Values are stored already folded by search-eval's foldText (the reference matchesQuery uses), so
 * the SQL side only needs `instr()`: SQLite's own lower() knows ASCII only, and RFC 3501 §6.4.4 asks
 * for case-insensitive matching of the decoded text.
 */
import { searchHeaderValues } from '../../mime/index.js';
import { foldText, sentDayOf } from '../search-eval.js';
import type { MessageStructure } from '../../mime/types.js';
import type { SearchColumns } from './schema.js';

/** Header fields with their own column; other fields fall back to evaluating the stored message. */
export const INDEXED_HEADERS = ['from', 'to', 'cc', 'bcc', 'subject'] as const;
export type IndexedHeader = (typeof INDEXED_HEADERS)[number];

/** Several occurrences of a field are kept apart by NUL, which no query value matches across. */
const SEPARATOR = '\u0000';

export function computeSearchColumns(raw: Buffer, structure: MessageStructure): SearchColumns {
  const column = (name: IndexedHeader): string | null => {
    const values = searchHeaderValues(raw, structure, name);
    return values.length === 0 ? null : values.map(foldText).join(SEPARATOR);
  };
  return {
    from: column('from'),
    to: column('to'),
    cc: column('cc'),
    bcc: column('bcc'),
    subject: column('subject'),
    sentDay: sentDayOf(structure.envelope.date),
  };
}

