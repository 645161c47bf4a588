/**
 * THREAD's keys as integers (content_thread, schema v14): each content's Message-ID, references
 * and base subject interned in sort_strings at APPEND, so the first THREAD of a large mailbox
 * reads one narrow row of integers per message and compares numbers (SortableMessage.messageIdKey)
 * instead of reading and hashing 100,000 strings.
 *
 * sort_strings only grows: a string stays when the last content using it goes. It holds what
 * content_sort holds anyway (IDs and subjects), once per distinct value; a rebuild would need a
 * scan of every content and is not worth it for that size.
 */
import type { Statement } from 'better-sqlite3';
import type { SortColumns } from './schema.js';

/** References are stored as 4-byte little-endian string ids; larger ids (never in practice) store no keys. */
const MAX_KEY = 0xffff_ffff;

export const INSERT_CONTENT_THREAD = 'INSERT INTO content_thread (content_id, message_id, refs, subject, reply) VALUES (?, ?, ?, ?, ?)';

/** The statements interning needs, from the store's statement cache or a migration's database. */
export type Prepare = (sql: string) => Statement;

/** The id of `value` in sort_strings, added when new. */
function intern(prepare: Prepare, value: string): number {
  const found = prepare('SELECT id FROM sort_strings WHERE value = ?').pluck().get(value) as number | undefined;
  if (found !== undefined) return found;
  return Number(prepare('INSERT INTO sort_strings (value) VALUES (?)').run(value).lastInsertRowid);
}

/** The content_thread row of a content whose sort keys are `c`; inside the caller's transaction. */
export function insertThreadKeys(prepare: Prepare, contentId: number, c: Pick<SortColumns, 'messageId' | 'refs' | 'subject' | 'reply'>): void {
  const messageId = c.messageId === null ? 0 : intern(prepare, c.messageId);
  const subject = c.subject === '' ? 0 : intern(prepare, c.subject);
  const ids = c.refs === '' ? [] : c.refs.split(' ').map((id) => intern(prepare, id));
  const fits = Math.max(messageId, subject, ...ids) <= MAX_KEY;
  let refs: Buffer | null = null;
  if (fits && ids.length > 0) {
    refs = Buffer.allocUnsafe(4 * ids.length);
    ids.forEach((id, i) => refs!.writeUInt32LE(id, 4 * i));
  }
  // A row of NULLs says "no integer keys": the mailbox is then threaded by its strings.
  prepare(INSERT_CONTENT_THREAD).run(contentId, fits ? messageId : null, refs, fits ? subject : null, c.reply);
}

const NO_KEYS: readonly number[] = Object.freeze([]);

/** The reference ids of a refs column value (NULL: none). */
export function decodeReferenceKeys(blob: Buffer | null): readonly number[] {
  if (blob === null || blob.length === 0) return NO_KEYS;
  const out = new Array<number>(blob.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = blob.readUInt32LE(4 * i);
  return out;
}
