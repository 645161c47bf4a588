/**
 * Per-user \Seen of shared mailboxes in the PostgreSQL store (UserMailbox.privateSeen and
 * setPrivateSeen, docs/sharing.md): table private_seen (schema.ts, version 7), one row per
 * (mailbox, viewer, uid). Rows go with their message (expungeAt in mailbox-tree.ts, which every
 * expunge and MOVE goes through) and with the mailbox row (foreign key). A change is one write
 * under the mailbox row's lock that raises highest_modseq by one, like a STORE, so the mailbox's
 * commit order stays whole; it is published on this node (with `viewer`), and other nodes find
 * it by its modseq in their catch-up (cluster-feed.ts) and publish it for that viewer likewise.
 */
import type pg from 'pg';
import { StoreError } from '../errors.js';
import { viewerFlags } from '../sharing/private-seen.js';
import { parseFlags } from '../sqlite/flags.js';
import type { FlagChange, FlagUpdateResult, PrivateSeen } from '../types.js';
import { selectableMailbox, type PgScope } from './context.js';
import { transaction } from './db.js';
import type { Reservation } from './sequencer.js';

export async function readPrivateSeen(scope: PgScope, mailboxId: string, viewer: string): Promise<PrivateSeen[]> {
  const box = await selectableMailbox(scope.ctx.pool, scope, mailboxId);
  const { rows } = await scope.ctx.pool.query<{ uid: number; seen: boolean; modseq: number }>(
    `SELECT p.uid, p.seen, p.modseq FROM private_seen p
       JOIN messages m ON m.mailbox_id = p.mailbox_id AND m.uid = p.uid
      WHERE p.mailbox_id = $1 AND p.viewer = $2 ORDER BY p.uid`,
    [box.id, viewer],
  );
  return rows.map((r) => ({ uid: Number(r.uid), seen: r.seen, modseq: Number(r.modseq) }));
}

export async function writePrivateSeen(
  scope: PgScope,
  mailboxId: string,
  viewer: string,
  uids: number[],
  seen: boolean,
  unchangedSince: number | undefined,
): Promise<FlagUpdateResult> {
  const { ctx } = scope;
  if (viewer === scope.user) throw new StoreError('cannot', "the owner's \\Seen is kept in the message's flags");
  let reserved: Reservation | null = null;
  const result = await transaction(
    ctx.pool,
    async (tx: pg.PoolClient): Promise<FlagUpdateResult> => {
      reserved = null;
      const box = await selectableMailbox(tx, scope, mailboxId, true);
      const { rows } = await tx.query<{ uid: number; flags: string; modseq: number; seen: boolean | null; pmodseq: number | null }>(
        `SELECT m.uid, m.flags, m.modseq, p.seen, p.modseq AS pmodseq
           FROM messages m LEFT JOIN private_seen p ON p.mailbox_id = m.mailbox_id AND p.uid = m.uid AND p.viewer = $1
          WHERE m.mailbox_id = $2 AND m.uid = ANY($3::bigint[]) ORDER BY m.uid`,
        [viewer, box.id, uids.filter((u) => Number.isSafeInteger(u))],
      );
      const modseq = Number(box.highest_modseq) + 1;
      const changed: FlagChange[] = [];
      const conflicts: number[] = [];
      for (const row of rows) {
        const uid = Number(row.uid);
        if (unchangedSince !== undefined && Math.max(Number(row.modseq), Number(row.pmodseq ?? 0)) > unchangedSince) {
          conflicts.push(uid);
          continue;
        }
        if ((row.seen ?? false) === seen) continue;
        changed.push({ uid, flags: viewerFlags(parseFlags(row.flags), seen), modseq });
      }
      if (changed.length === 0) return { changed, conflicts };
      await tx.query('UPDATE mailboxes SET highest_modseq = $1 WHERE id = $2', [modseq, box.id]);
      await tx.query(
        `INSERT INTO private_seen (mailbox_id, viewer, uid, seen, modseq)
           SELECT $1, $2, u, $3, $4 FROM unnest($5::bigint[]) AS u
         ON CONFLICT (mailbox_id, viewer, uid) DO UPDATE SET seen = excluded.seen, modseq = excluded.modseq`,
        [box.id, viewer, seen, modseq, changed.map((c) => c.uid)],
      );
      const r = ctx.feed.reserve(scope.user, box.id, modseq);
      r.changes = [{ kind: 'flags', mailboxId, changes: changed.map((c) => ({ ...c, flags: [...c.flags] })), origin: scope.origin, viewer }];
      reserved = r;
      await ctx.feed.notify(tx, scope.user, [[box.id, modseq]]);
      return { changed, conflicts };
    },
    {
      onRollback: () => {
        (reserved as Reservation | null)?.abort();
        reserved = null;
      },
    },
  );
  const done = reserved as Reservation | null;
  if (done) await done.commit(done.changes);
  return result;
}
