/** STATUS, SELECT snapshots, \Recent, records, structure, bytes and SEARCH. */
import type { MessageStructure } from '../../mime/types.js';
import { StoreError } from '../errors.js';
import { matchesQuery, type TextCache } from '../search-eval.js';
import type { SearchQuery } from '../search-query.js';
import type { ByteRange, MailboxSnapshot, MailboxStatus, MessageMeta, MessageRecord, SortableMessage } from '../types.js';
import { pinBody, readBody, readBodySync, readPinnedBody, readStructureJson } from './contents.js';
import { pinnedStream } from '../pinned-stream.js';
import { jsonList, selectableMailbox, type UserScope } from './context.js';
import { parseFlags } from './flags.js';
import { toInfo } from './mailbox-tree.js';
import { planQuery } from './search-sql.js';

export function mailboxStatus(scope: UserScope, mailboxId: string): MailboxStatus {
  const box = selectableMailbox(scope, mailboxId);
  const agg = scope.ctx.sql
    .get(
      `SELECT count(*) AS messages,
              coalesce(sum(size), 0) AS size,
              coalesce(sum(instr(' ' || flags || ' ', ' \\Seen ') = 0), 0) AS unseen,
              coalesce(sum(uid >= ?), 0) AS recent
         FROM messages WHERE mailbox_id = ?`,
    )
    .get(box.recent_uid, box.id) as { messages: number; size: number; unseen: number; recent: number };
  return {
    messages: agg.messages,
    unseen: agg.unseen,
    uidNext: box.uid_next,
    uidValidity: box.uid_validity,
    highestModseq: box.highest_modseq,
    size: agg.size,
    recent: agg.recent,
  };
}

export function mailboxSnapshot(scope: UserScope, mailboxId: string): MailboxSnapshot {
  const box = selectableMailbox(scope, mailboxId);
  const messages = scope.ctx.snapshots.messages(scope.ctx, box);
  const subscribed = scope.ctx.sql.get('SELECT 1 FROM subscriptions WHERE user_id = ? AND name = ?').get(scope.userId, box.name) !== undefined;
  return { mailbox: toInfo(box, subscribed), uidValidity: box.uid_validity, uidNext: box.uid_next, highestModseq: box.highest_modseq, messages };
}

export async function claimRecent(scope: UserScope, mailboxId: string, peek: boolean): Promise<number> {
  const box = selectableMailbox(scope, mailboxId);
  if (peek || box.recent_uid >= box.uid_next) return box.recent_uid;
  // Batched with other writes (one fsync for many SELECTs, STOREs and APPENDs).
  return scope.ctx.group.run(() => {
    const fresh = selectableMailbox(scope, mailboxId);
    scope.ctx.sql.get('UPDATE mailboxes SET recent_uid = uid_next WHERE id = ?').run(fresh.id);
    return fresh.recent_uid;
  });
}

interface RecordRow {
  uid: number;
  flags: string;
  modseq: number;
  internal_date: number;
  size: number;
  content_id: number;
}

function toRecord(r: RecordRow): MessageRecord {
  return { uid: r.uid, flags: parseFlags(r.flags), modseq: r.modseq, internalDate: new Date(r.internal_date), size: r.size };
}

export function messageRecords(scope: UserScope, mailboxId: string, uids: number[]): MessageRecord[] {
  const box = selectableMailbox(scope, mailboxId);
  const rows = scope.ctx.sql
    .get(
      'SELECT uid, flags, modseq, internal_date, size FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid',
    )
    .all(box.id, jsonList(uids)) as RecordRow[];
  return rows.map(toRecord);
}

function contentOf(scope: UserScope, mailboxId: string, uid: number): number {
  const box = selectableMailbox(scope, mailboxId);
  const id = scope.ctx.sql.get('SELECT content_id FROM messages WHERE mailbox_id = ? AND uid = ?').pluck().get(box.id, uid) as number | undefined;
  if (id === undefined) throw new StoreError('nonexistent', `no message with UID ${uid}`);
  return id;
}

export function messageStructure(scope: UserScope, mailboxId: string, uid: number): MessageStructure {
  return JSON.parse(readStructureJson(scope.ctx, contentOf(scope, mailboxId, uid))) as MessageStructure;
}

export function readMessage(scope: UserScope, mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
  return readBody(scope.ctx, contentOf(scope, mailboxId, uid), range);
}

export function streamMessage(scope: UserScope, mailboxId: string, uid: number, range?: ByteRange): AsyncIterable<Buffer> {
  return pinnedStream(() => pinBody(scope.ctx, contentOf(scope, mailboxId, uid), range), readPinnedBody);
}

export function searchMessages(scope: UserScope, mailboxId: string, query: SearchQuery, texts: TextCache): number[] {
  const box = selectableMailbox(scope, mailboxId);
  const { filter, residual } = planQuery(query);
  const { ctx } = scope;
  const from = 'FROM messages m LEFT JOIN content_search cs ON cs.content_id = m.content_id';
  if (!residual) {
    return ctx.sql.get(`SELECT m.uid ${from} WHERE m.mailbox_id = ? AND ${filter.sql} ORDER BY m.uid`).pluck().all(box.id, ...filter.params) as number[];
  }
  const rows = ctx.sql
    .get(`SELECT m.uid, m.flags, m.modseq, m.internal_date, m.size, m.content_id ${from} WHERE m.mailbox_id = ? AND ${filter.sql} ORDER BY m.uid`)
    .all(box.id, ...filter.params) as RecordRow[];
  const out: number[] = [];
  for (const row of rows) {
    let raw: Buffer | undefined;
    let structure: MessageStructure | undefined;
    const matched = matchesQuery(
      residual,
      {
        record: toRecord(row),
        raw: () => (raw ??= readBodySync(ctx, row.content_id)),
        structure: () => (structure ??= JSON.parse(readStructureJson(ctx, row.content_id)) as MessageStructure),
      },
      { cache: { texts, key: `c${row.content_id}` } },
    );
    if (matched) out.push(row.uid);
  }
  return out;
}

/** Every message's SORT/THREAD keys, from the cache (sort-cache.ts) or content_sort. */
export function sortData(scope: UserScope, mailboxId: string): readonly SortableMessage[] {
  return scope.ctx.sortKeys.list(scope.ctx, selectableMailbox(scope, mailboxId));
}
