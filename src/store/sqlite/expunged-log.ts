/**
 * The SQLite side of QRESYNC's expunged-UID log (src/store/expunged.ts): rows (mailbox, uid,
 * modseq) written in the transaction of the expunge, pruned to about `expungedRetention` per
 * mailbox with the highest pruned modseq kept on the mailbox row.
 */
import { pruneDue } from '../expunged.js';
import { selectableMailbox, type StoreContext, type UserScope } from './context.js';

/** Rows pruned at most per expunge beyond what it added itself (a few hundred: about a millisecond). */
const PRUNE_STEP = 256;

/** Records `uids` expunged at `modseq` (inside the expunge's transaction). */
export function recordExpungedRows(ctx: StoreContext, mailboxId: number, uids: readonly number[], modseq: number): void {
  if (uids.length === 0) return;
  insertExpungedRows(ctx, mailboxId, uids, modseq);
  const count = ctx.sql
    .get('UPDATE mailboxes SET expunged_count = expunged_count + ? WHERE id = ? RETURNING expunged_count')
    .pluck()
    .get(uids.length, mailboxId) as number;
  pruneExpungedRows(ctx, mailboxId, count, uids.length);
}

/**
 * The log's rows of `uids` expunged at `modseq`, for a caller that raises the mailbox row's
 * expunged_count itself (in the one UPDATE of the row it makes anyway) and then calls
 * pruneExpungedRows with the new count.
 */
export function insertExpungedRows(ctx: StoreContext, mailboxId: number, uids: readonly number[], modseq: number): void {
  const insert = ctx.sql.get('INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)');
  for (const uid of uids) insert.run(mailboxId, uid, modseq);
}

/** Prunes the oldest rows once the mailbox's `count` (expunged_count, `added` of them just now) is past the retention. */
export function pruneExpungedRows(ctx: StoreContext, mailboxId: number, count: number, added: number): void {
  const retention = ctx.expungedRetention;
  if (!pruneDue(count, retention)) return;
  // The oldest rows go, but no more in one transaction than PRUNE_STEP or what this expunge just
  // added: pruning everything beyond the retention at once was 5,000 rows and 10-20 ms on the event
  // loop every 20 slices of a large POP3 QUIT (issue 13); this way each expunge pays for about as
  // many deletes as it made inserts, and the log still cannot grow past retention + slack + step.
  // An expunge's rows may be split by the cut: the mark covers the newest pruned modseq, so a
  // client asking from before it gets null (the known-UIDs answer) and one asking from it on
  // wants only later modseqs, whose rows are all still here.
  const limit = Math.min(count - retention, Math.max(PRUNE_STEP, added));
  const oldest = ctx.sql
    .get('SELECT uid, modseq FROM expunged WHERE mailbox_id = ? ORDER BY modseq, uid LIMIT ?')
    .all(mailboxId, limit) as Array<{ uid: number; modseq: number }>;
  if (oldest.length === 0) return;
  const remove = ctx.sql.get('DELETE FROM expunged WHERE mailbox_id = ? AND uid = ?');
  let cut = 0;
  for (const row of oldest) {
    remove.run(mailboxId, row.uid);
    cut = Math.max(cut, row.modseq);
  }
  ctx.sql
    .get('UPDATE mailboxes SET expunged_count = expunged_count - ?, expunged_pruned_modseq = max(expunged_pruned_modseq, ?) WHERE id = ?')
    .run(oldest.length, cut, mailboxId);
}

/** UserMailbox.expungedSince: null when rows after `since` may have been pruned. */
export function expungedSinceRows(scope: UserScope, mailboxId: string, since: number): number[] | null {
  const box = selectableMailbox(scope, mailboxId) as { id: number; expunged_pruned_modseq?: number };
  if (since < (box.expunged_pruned_modseq ?? 0)) return null;
  return scope.ctx.sql
    .get('SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid')
    .pluck()
    .all(box.id, since) as number[];
}
