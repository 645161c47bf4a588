/**
 * The decoded header text SEARCH compares against, computed once at APPEND time so FROM/TO/CC/BCC/
 * SUBJECT searches run as SQL substring scans instead of re-parsing every message.
 *
 * Values are stored already folded by search-eval's foldText (the i;unicode-casemap form the
 * reference matchesQuery compares), so the SQL side only needs `instr()`: SQLite's own lower() knows
 * ASCII only. The columns are content_search.cm_* (renamed from hdr_* by v22, which refolded them).
 */
import { sentDayOf } from '../search-eval.js';
import type { MessageStructure } from '../../mime/types.js';
import { headerColumns } from '../search-columns.js';
import type { SearchColumns } from './schema.js';

export { INDEXED_HEADERS, type IndexedHeader } from '../search-columns.js';

export function computeSearchColumns(raw: Buffer, structure: MessageStructure): SearchColumns {
  return { ...headerColumns(raw, structure), sentDay: sentDayOf(structure.envelope.date) };
}

