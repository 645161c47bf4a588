/** SELECT snapshots, \Recent, records, structure and bytes (STATUS: mailbox-status.ts, SEARCH: search.ts). */
import type { MessageStructure } from '../../mime/types.js';
import { StoreError } from '../errors.js';
import type { ByteRange, MailboxSnapshot, MessageMeta, MessageRecord, MessageStream, RecentClaimOptions, SortableMessage, SortKeyNames } from '../types.js';
import { pinBody, readBody, readPinnedBody, readStructureJson } from './contents.js';
import { pinnedStream } from '../pinned-stream.js';
import { jsonList, selectableMailbox, type UserScope } from './context.js';
import { parseFlags } from './flags.js';
import { toInfo } from './mailbox-tree.js';
import { isTombstone } from './tombstone.js';

export async function mailboxSnapshot(scope: UserScope, mailboxId: string): Promise<MailboxSnapshot> {
  // Read in slices when large (snapshot-cache.ts); `box` is then the row the messages answer for.
  const { box, messages } = await scope.ctx.snapshots.messagesInSlices(scope.ctx, selectableMailbox(scope, mailboxId), () =>
    selectableMailbox(scope, mailboxId),
  );
  const subscribed = scope.ctx.sql.get('SELECT 1 FROM subscriptions WHERE user_id = ? AND name = ?').get(scope.userId, box.name) !== undefined;
  return { mailbox: toInfo(box, subscribed), uidValidity: box.uid_validity, uidNext: box.uid_next, highestModseq: box.highest_modseq, messages };
}

export async function claimRecent(scope: UserScope, mailboxId: string, options: RecentClaimOptions): Promise<number> {
  const box = selectableMailbox(scope, mailboxId);
  const last = (b: { uid_next: number }): number => Math.min(options.through ?? b.uid_next - 1, b.uid_next - 1);
  // The mark only grows: once it is past `through`, nothing up to there can be claimed any more.
  if (options.peek || box.recent_uid > last(box)) return box.recent_uid;
  // Batched with other writes. The mark is read again inside the transaction: that read and the
  // move are the one atomic step that makes two sessions' claims disjoint. Durability 'soon': a
  // power cut that loses the move only makes the same messages \Recent once more.
  return scope.ctx.group.run(() => {
    const fresh = selectableMailbox(scope, mailboxId);
    const through = last(fresh);
    if (fresh.recent_uid <= through) scope.ctx.sql.get('UPDATE mailboxes SET recent_uid = ? WHERE id = ?').run(through + 1, fresh.id);
    return fresh.recent_uid;
  }, 'soon');
}

export interface RecordRow {
  uid: number;
  flags: string;
  modseq: number;
  internal_date: number;
  size: number;
  content_id: number;
  save_date: number | null;
}

export function toRecord(r: RecordRow): MessageRecord {
  return {
    uid: r.uid,
    flags: parseFlags(r.flags),
    modseq: r.modseq,
    internalDate: new Date(r.internal_date),
    size: r.size,
    saveDate: r.save_date === null ? null : new Date(r.save_date),
  };
}

export function messageRecords(scope: UserScope, mailboxId: string, uids: number[]): MessageRecord[] {
  const box = selectableMailbox(scope, mailboxId);
  const rows = scope.ctx.sql
    .get(
      'SELECT uid, flags, modseq, internal_date, size, save_date FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid',
    )
    .all(box.id, jsonList(uids)) as RecordRow[];
  return rows.map(toRecord);
}

/**
 * UserMailbox.changedSince: through messages_by_modseq (mailbox_id, modseq), so a resync after a
 * few changes reads those rows and not the mailbox. Sorted here rather than by SQL, which would
 * otherwise walk the primary key (uid order) and test every row's modseq.
 */
export function changedSince(scope: UserScope, mailboxId: string, since: number): MessageMeta[] {
  const box = selectableMailbox(scope, mailboxId);
  const rows = scope.ctx.sql
    .get('SELECT uid, flags, modseq FROM messages INDEXED BY messages_by_modseq WHERE mailbox_id = ? AND modseq > ?')
    .all(box.id, since) as Array<{ uid: number; flags: string; modseq: number }>;
  rows.sort((a, b) => a.uid - b.uid);
  return rows.map((r) => ({ uid: r.uid, flags: parseFlags(r.flags), modseq: r.modseq }));
}

function contentOf(scope: UserScope, mailboxId: string, uid: number): number {
  // One statement for the common case (FETCH asks once per message): the message, in a mailbox
  // of this user's that can hold messages. Anything else goes the long way, for the right error.
  const found = scope.ctx.sql
    .get(
      'SELECT m.content_id AS id, b.name AS name, b.noselect AS noselect FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.mailbox_id = ? AND m.uid = ? AND b.user_id = ?',
    )
    .get(/^\d+$/.test(mailboxId) ? Number(mailboxId) : -1, uid, scope.userId) as { id: number; name: string; noselect: number } | undefined;
  if (found && !found.noselect && !isTombstone(found.name)) return found.id;
  const box = selectableMailbox(scope, mailboxId);
  const id = scope.ctx.sql.get('SELECT content_id FROM messages WHERE mailbox_id = ? AND uid = ?').pluck().get(box.id, uid) as number | undefined;
  if (id === undefined) throw new StoreError('nonexistent', `no message with UID ${uid}`);
  return id;
}

export function messageStructure(scope: UserScope, mailboxId: string, uid: number): MessageStructure {
  const contentId = contentOf(scope, mailboxId, uid);
  return scope.ctx.structures.get(contentId, () => readStructureJson(scope.ctx, contentId));
}

export function readMessage(scope: UserScope, mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
  return readBody(scope.ctx, contentOf(scope, mailboxId, uid), range);
}

export function streamMessage(scope: UserScope, mailboxId: string, uid: number, range?: ByteRange): MessageStream {
  return pinnedStream(() => pinBody(scope.ctx, contentOf(scope, mailboxId, uid), range), readPinnedBody);
}

/**
 * Every message's SORT/THREAD keys, from the cache (sort-cache.ts) or content_sort; `keys` (the
 * caller's hint) are read ahead in slices when not cached, and the list answers for the mailbox
 * as it is after them.
 */
export function sortData(scope: UserScope, mailboxId: string, keys: SortKeyNames = []): Promise<readonly SortableMessage[]> {
  return scope.ctx.sortKeys.listInSlices(scope.ctx, selectableMailbox(scope, mailboxId), () => selectableMailbox(scope, mailboxId), keys);
}
