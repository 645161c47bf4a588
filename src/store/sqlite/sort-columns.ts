/**
 * SORT/THREAD keys as the content_sort table keeps them: messageSortKeys() of the body, computed at
 * APPEND like the search columns, so a SORT of 100,000 messages reads one narrow row per message
 * and never a body.
 */
import { messageSortKeys } from '../../mime/index.js';
import type { MessageStructure } from '../../mime/types.js';
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
