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

/**
 * One step of re-deriving the stored columns of existing messages (SQLite v22, PostgreSQL v10): at
 * most this many contents, and no more header octets than this, per transaction. A step reads
 * only each message's top-level header, so a mailbox of any size is redone in steps of about the
 * same small memory and time, and a kill -9 loses at most one step.
 */
export const REFOLD_STEP = { contents: 500, headerOctets: 4 * 1024 * 1024 } as const;

/** The five header columns of one stored message, as APPEND computes them now. */
export function headerColumns(head: Buffer, structure: MessageStructure): Record<IndexedHeader, string | null> {
  return {
    from: headerSearchText(head, structure, 'from'),
    to: headerSearchText(head, structure, 'to'),
    cc: headerSearchText(head, structure, 'cc'),
    bcc: headerSearchText(head, structure, 'bcc'),
    subject: headerSearchText(head, structure, 'subject'),
  };
}

/**
 * A column whose message header could not be read (a damaged body) as well as it can be done
 * without it: the old lower-cased, NFC text put in i;unicode-casemap form. That is exact but for
 * the rare letters whose lower case maps back elsewhere (ẞ, Georgian Mtavruli).
 */
export function refoldWithoutHeader(old: string | null): string | null {
  return old === null ? null : foldText(old);
}
