/**
 * The SQLite side of QRESYNC's expunged-UID log (src/store/expunged.ts): rows (mailbox, uid,
 * modseq) written in the transaction of the expunge, pruned to about `expungedRetention` per
 * mailbox with the highest pruned modseq kept on the mailbox row.
 */
import { pruneDue } from '../expunged.js';
import { selectableMailbox, type StoreContext, type UserScope } from './context.js';

/** Records `uids` expunged at `modseq` (inside the expunge's transaction). */
export function recordExpungedRows(ctx: StoreContext, mailboxId: number, uids: readonly number[], modseq: number): void {
  if (uids.length === 0) return;
  const insert = ctx.sql.get('INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)');
  for (const uid of uids) insert.run(mailboxId, uid, modseq);
  const count = ctx.sql
    .get('UPDATE mailboxes SET expunged_count = expunged_count + ? WHERE id = ? RETURNING expunged_count')
    .pluck()
    .get(uids.length, mailboxId) as number;
  const retention = ctx.expungedRetention;
  if (!pruneDue(count, retention)) return;
  // The modseq of the newest row that goes; rows of that same expunge go with it (kept whole).
  const cut = ctx.sql
    .get('SELECT modseq FROM expunged WHERE mailbox_id = ? ORDER BY modseq DESC LIMIT 1 OFFSET ?')
    .pluck()
    .get(mailboxId, retention) as number | undefined;
  if (cut === undefined) return;
  const gone = ctx.sql.get('DELETE FROM expunged WHERE mailbox_id = ? AND modseq <= ?').run(mailboxId, cut).changes;
  ctx.sql
    .get('UPDATE mailboxes SET expunged_count = expunged_count - ?, expunged_pruned_modseq = max(expunged_pruned_modseq, ?) WHERE id = ?')
    .run(gone, cut, mailboxId);
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
