/**
 * SORT/THREAD keys as the content_sort table keeps them: messageSortKeys() of the body, computed at
 * APPEND like the search columns, so a SORT of 100,000 messages reads one narrow row per message
 * and never a body.
 */
import { messageSortKeys } from '../../mime/index.js';
import type { MessageStructure } from '../../mime/types.js';
import type { MessageSortKeys, SortableMessage } from '../types.js';
import type { SortColumns } from './schema.js';

export function computeSortColumns(raw: Buffer, structure: MessageStructure): SortColumns {
  const k = messageSortKeys(raw, structure);
  return {
    sentDate: k.sentDate,
    subject: k.subject,
    reply: k.replyOrForward ? 1 : 0,
    from: k.from,
    to: k.to,
    cc: k.cc,
    displayFrom: k.displayFrom,
    displayTo: k.displayTo,
    messageId: k.messageId,
    refs: k.references.join(' '),
  };
}

/** The columns loadSortable() selects, in the order of a raw row. */
export const SORTABLE_COLUMNS =
  'm.uid, m.internal_date, m.size, s.sent_date, s.subject, s.reply, s.from_key, s.to_key, s.cc_key, s.display_from, s.display_to, s.message_id, s.refs';

type SortableRow = [number, number, number, number | null, string, number, string, string, string, string, string, string | null, string];

const NO_REFERENCES: string[] = [];

/** A raw row (better-sqlite3 `.raw()`) of SORTABLE_COLUMNS → SortableMessage. */
export function sortableFromRow(row: unknown[]): SortableMessage {
  const r = row as SortableRow;
  const keys: MessageSortKeys = {
    sentDate: r[3],
    subject: r[4],
    replyOrForward: r[5] === 1,
    from: r[6],
    to: r[7],
    cc: r[8],
    displayFrom: r[9],
    displayTo: r[10],
    messageId: r[11],
    references: r[12] === '' ? NO_REFERENCES : r[12].split(' '),
  };
  return { uid: r[0], internalDate: r[1], size: r[2], ...keys };
}
