/**
 * The decoded header text SEARCH compares against, computed once at APPEND time so FROM/TO/CC/BCC/
 * SUBJECT searches run as SQL substring scans instead of re-parsing every message.
 *
 * Values are stored already folded by search-eval's foldText (the reference matchesQuery uses), so
 * the SQL side only needs `instr()`: SQLite's own lower() knows ASCII only, and RFC 3501 §6.4.4 asks
 * for case-insensitive matching of the decoded text.
 */
import { sentDayOf } from '../search-eval.js';
import type { MessageStructure } from '../../mime/types.js';
import { headerSearchText, type IndexedHeader } from '../search-columns.js';
import type { SearchColumns } from './schema.js';

export { INDEXED_HEADERS, type IndexedHeader } from '../search-columns.js';

export function computeSearchColumns(raw: Buffer, structure: MessageStructure): SearchColumns {
  const column = (name: IndexedHeader): string | null => headerSearchText(raw, structure, name);
  return {
    from: column('from'),
    to: column('to'),
    cc: column('cc'),
    bcc: column('bcc'),
    subject: column('subject'),
    sentDay: sentDayOf(structure.envelope.date),
  };
}

