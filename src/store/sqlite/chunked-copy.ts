/**
 * COPY of many messages without one long stretch on the event loop, and still all-or-nothing.
 *
 * One transaction of 20,000 inserts held the loop for 150–300 ms (bench/stall.ts), so a large COPY
 * runs as several group-commit jobs of at most COPY_CHUNK messages, each a few milliseconds. Each
 * chunk takes its UIDs from the target's `uid_next` when it commits, so UIDs stay strictly
 * ascending in the mailbox even when other sessions append between chunks (RFC 3501 §2.3.1.1),
 * and is announced on the change feed once durable, in order, like any other write.
 *
 * RFC 3501 §6.4.7 wants the destination "restored to its state before the COPY attempt" when a
 * COPY fails, so every chunk also records the UID range it inserted in `copies_in_progress`, and
 * the last chunk deletes those records in its own transaction: that COMMIT is the moment the COPY
 * happened. If a chunk fails, the chunks before it are removed again (in chunks, announced as
 * expunged to whoever saw them) and the client gets NO. If the process dies first (kill -9, power
 * loss), the records survive and the next open removes what they name before any session sees the
 * mailbox (rollBackUnfinishedCopies). The UIDs a removed chunk took are never handed out again:
 * `uid_next` is not lowered. What this gives up is invisibility while the COPY runs: another
 * session may see the first chunks before the last one commits, and then see them expunged if the
 * COPY fails — which IMAP allows of any message at any time — but nothing half-copied outlives the
 * COPY, not even a crash.
 */
import type { CopyResult } from '../types.js';
import { addReference, releaseContents, removeFiles } from './contents.js';
import { jsonList, selectableMailbox, type StoreContext, type UserScope } from './context.js';
import { addUsage, checkUsage, limitsFor } from './quota.js';
import { recordExpungedRows } from './expunged-log.js';
import type { QuotaLimits } from '../types.js';
import { keywordsOfFlagStrings } from '../keyword-limit.js';
import { checkIncomingKeywords } from './keyword-check.js';

/** Messages per transaction of a large COPY: a few milliseconds of work. */
export const COPY_CHUNK = 250;

interface CopyRow {
  uid: number;
  content_id: number;
  flags: string;
  internal_date: number;
  size: number;
}

interface Chunk {
  uidValidity: number;
  mapping: Array<[number, number]>;
}

/** Names one COPY's records; what an earlier run left is removed at open, so a counter will do. */
let lastCopyId = 0;

export async function copyInChunks(scope: UserScope, fromId: string, uids: number[], toId: string, maxKeywords?: number): Promise<CopyResult> {
  const { ctx } = scope;
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const copyId = ++lastCopyId;
  const mapping: Array<[number, number]> = [];
  let uidValidity = 0;
  // Each chunk checks the quota inside its own transaction, with what it adds: racing writers
  // cannot pass the limit, and a chunk refused for it rolls the earlier ones back (all-or-nothing).
  const limits = (await limitsFor(ctx, scope.userId, scope.user, ctx.quotaDefaults)).limits;
  try {
    for (let i = 0; i < sorted.length; i += COPY_CHUNK) {
      const last = i + COPY_CHUNK >= sorted.length;
      const part = await ctx.group.run((): Chunk => {
        const chunk = copyChunk(scope, fromId, sorted.slice(i, i + COPY_CHUNK), toId, { limits, maxKeywords }, last ? undefined : copyId);
        // The COPY is complete when this commits: nothing is left to roll back after a crash.
        if (last) ctx.sql.get('DELETE FROM copies_in_progress WHERE copy_id = ?').run(copyId);
        return chunk;
      });
      uidValidity = part.uidValidity;
      for (const pair of part.mapping) mapping.push(pair);
      if (part.mapping.length > 0) {
        ctx.feed.publish(scope.user, { kind: 'exists', mailboxId: toId, uids: part.mapping.map((m) => m[1]), origin: scope.origin });
      }
    }
  } catch (err) {
    // Also the chunks whose transaction committed but whose sync failed: they are recorded.
    await rollBack(scope, toId, copyId).catch((rollbackError: unknown) =>
      // The records stay: the next open removes what they name.
      ctx.logger?.error({ err: rollbackError }, 'could not roll back a failed COPY; it is undone at the next start'),
    );
    throw err;
  }
  return { uidValidity, mapping };
}

/** One chunk, inside its transaction; with `copyId` its UID range is recorded for a rollback. */
function copyChunk(
  scope: UserScope,
  fromId: string,
  uids: number[],
  toId: string,
  { limits, maxKeywords }: { limits: QuotaLimits; maxKeywords: number | undefined },
  copyId: number | undefined,
): Chunk {
  const { ctx } = scope;
  const source = selectableMailbox(scope, fromId);
  const target = selectableMailbox(scope, toId);
  ctx.snapshots.noteWrite(target.id);
  const rows = ctx.sql
    .get('SELECT uid, content_id, flags, internal_date, size FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid')
    .all(source.id, jsonList(uids)) as CopyRow[];
  if (rows.length === 0) return { uidValidity: target.uid_validity, mapping: [] };
  const storage = rows.reduce((n, r) => n + r.size, 0);
  checkUsage(ctx, scope.userId, limits, { storage, messages: rows.length });
  // Like the quota, the keyword limit is counted per chunk with what the chunk adds; a chunk refused
  // rolls the earlier ones back.
  checkIncomingKeywords(ctx, target.id, [...keywordsOfFlagStrings(rows.map((r) => r.flags))], maxKeywords);
  addUsage(ctx, target.id, storage, rows.length);
  const modseq = target.highest_modseq + 1;
  const first = target.uid_next;
  let next = first;
  const mapping: Array<[number, number]> = [];
  // RFC 8514: a copy is saved in the target now; its internal date stays the original's.
  const savedAt = Date.now();
  const insert = ctx.sql.get('INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size, save_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (const row of rows) {
    insert.run(target.id, next, row.content_id, row.flags, modseq, row.internal_date, row.size, savedAt);
    addReference(ctx, row.content_id);
    mapping.push([row.uid, next]);
    next++;
  }
  ctx.sql.get('UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?').run(next, modseq, target.id);
  if (copyId !== undefined) {
    ctx.sql.get('INSERT INTO copies_in_progress (copy_id, mailbox_id, first_uid, last_uid) VALUES (?, ?, ?, ?)').run(copyId, target.id, first, next - 1);
  }
  return { uidValidity: target.uid_validity, mapping };
}

/** Removes what the chunks of one COPY inserted, one chunk per transaction. */
async function rollBack(scope: UserScope, toId: string, copyId: number): Promise<void> {
  const { ctx } = scope;
  const records = ctx.sql.get('SELECT id FROM copies_in_progress WHERE copy_id = ? ORDER BY id').pluck().all(copyId) as number[];
  for (const record of records) {
    let files: Buffer[] = [];
    const removed = await ctx.group.run(() => {
      const out = undoRecord(ctx, record);
      files = out.files;
      return out.uids;
    });
    removeFiles(ctx, files);
    if (removed.length > 0) ctx.feed.publish(scope.user, { kind: 'expunge', mailboxId: toId, uids: removed, origin: scope.origin });
  }
}

/** Deletes the messages one record names and the record (inside a transaction). */
function undoRecord(ctx: StoreContext, record: number): { uids: number[]; files: Buffer[] } {
  const range = ctx.sql.get('SELECT mailbox_id, first_uid, last_uid FROM copies_in_progress WHERE id = ?').get(record) as
    | { mailbox_id: number; first_uid: number; last_uid: number }
    | undefined;
  if (!range) return { uids: [], files: [] };
  const rows = ctx.sql
    .get('SELECT uid, content_id, size FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid')
    .all(range.mailbox_id, range.first_uid, range.last_uid) as Array<{ uid: number; content_id: number; size: number }>;
  ctx.sql.get('DELETE FROM copies_in_progress WHERE id = ?').run(record);
  if (rows.length === 0) return { uids: [], files: [] };
  ctx.snapshots.noteWrite(range.mailbox_id);
  ctx.sql.get('DELETE FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ?').run(range.mailbox_id, range.first_uid, range.last_uid);
  // RFC 7162 §3.2.10: an expunge raises HIGHESTMODSEQ.
  const modseq = ctx.sql.get('UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq').pluck().get(range.mailbox_id) as number;
  // Sessions that saw the chunk hear it vanish (QRESYNC) like any other expunge.
  recordExpungedRows(ctx, range.mailbox_id, rows.map((r) => r.uid), modseq);
  addUsage(ctx, range.mailbox_id, -rows.reduce((n, r) => n + r.size, 0), -rows.length);
  return { uids: rows.map((r) => r.uid), files: releaseContents(ctx, rows.map((r) => r.content_id)) };
}

/**
 * At open, before any session: removes the chunks of every COPY that did not finish (the process
 * died during it). Returns how many messages were removed.
 */
export function rollBackUnfinishedCopies(ctx: StoreContext): number {
  const records = ctx.sql.get('SELECT id FROM copies_in_progress ORDER BY id').pluck().all() as number[];
  if (records.length === 0) return 0;
  let files: Buffer[] = [];
  let removed = 0;
  ctx.db.transaction(() => {
    for (const record of records) {
      const out = undoRecord(ctx, record);
      removed += out.uids.length;
      files = files.concat(out.files);
    }
  })();
  removeFiles(ctx, files);
  return removed;
}
