/**
 * The decoded, folded header text that SEARCH FROM/TO/CC/BCC/SUBJECT compare against, as every
 * store that keeps it in columns computes it (SQLite, PostgreSQL): one definition, so the SQL
 * pushdown of each backend gives the reference evaluator's answers (search-eval.ts).
 */
import { searchHeaderValues } from '../mime/index.js';
import type { MessageStructure } from '../mime/types.js';
import { foldText } from './search-eval.js';

/** Header fields with their own column; other fields fall back to evaluating the stored message. */
export const INDEXED_HEADERS = ['from', 'to', 'cc', 'bcc', 'subject'] as const;
export type IndexedHeader = (typeof INDEXED_HEADERS)[number];

/** Several occurrences of a field are kept apart by NUL, which no query value matches across. */
export const OCCURRENCE_SEPARATOR = '\u0000';

/** Every occurrence of `name`, decoded (addresses without comments) and folded, or null when absent. */
export function headerSearchText(raw: Buffer, structure: MessageStructure, name: IndexedHeader): string | null {
  const values = searchHeaderValues(raw, structure, name);
  return values.length === 0 ? null : values.map(foldText).join(OCCURRENCE_SEPARATOR);
}
