/**
 * Per-user \Seen of shared mailboxes in the SQLite store (UserMailbox.privateSeen/setPrivateSeen,
 * docs/sharing.md): table private_seen (schema.ts, version 19), one row per (mailbox, viewer,
 * uid). Rows go with their message (deleteRows in message-writes.ts), with the mailbox's messages
 * when it is deleted (tombstoneMailbox) and with the mailbox row (foreign key).
 */
import { StoreError } from '../errors.js';
import { viewerFlags } from '../sharing/private-seen.js';
import type { FlagChange, FlagUpdateResult, PrivateSeen } from '../types.js';
import { jsonList, selectableMailbox, type UserScope } from './context.js';
import { parseFlags } from './flags.js';

export function readPrivateSeen(scope: UserScope, mailboxId: string, viewer: string): PrivateSeen[] {
  const box = selectableMailbox(scope, mailboxId);
  const rows = scope.ctx.sql
    .get(
      `SELECT p.uid AS uid, p.seen AS seen, p.modseq AS modseq FROM private_seen p
         JOIN messages m ON m.mailbox_id = p.mailbox_id AND m.uid = p.uid
        WHERE p.mailbox_id = ? AND p.viewer = ? ORDER BY p.uid`,
    )
    .all(box.id, viewer) as Array<{ uid: number; seen: number; modseq: number }>;
  return rows.map((r) => ({ uid: r.uid, seen: r.seen !== 0, modseq: r.modseq }));
}

export async function writePrivateSeen(
  scope: UserScope,
  mailboxId: string,
  viewer: string,
  uids: number[],
  seen: boolean,
  unchangedSince: number | undefined,
): Promise<FlagUpdateResult> {
  const { ctx } = scope;
  if (viewer === scope.user) throw new StoreError('cannot', "the owner's \\Seen is kept in the message's flags");
  const published: FlagChange[] = [];
  const result = await ctx.group.run((): FlagUpdateResult => {
    const box = selectableMailbox(scope, mailboxId);
    const rows = ctx.sql
      .get(
        `SELECT m.uid AS uid, m.flags AS flags, m.modseq AS modseq, p.seen AS seen, p.modseq AS pmodseq
           FROM messages m LEFT JOIN private_seen p ON p.mailbox_id = m.mailbox_id AND p.uid = m.uid AND p.viewer = ?
          WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid`,
      )
      .all(viewer, box.id, jsonList(uids)) as Array<{ uid: number; flags: string; modseq: number; seen: number | null; pmodseq: number | null }>;
    // One modseq for the whole call, as one STORE (RFC 7162 §3.1.3 allows it).
    const modseq = box.highest_modseq + 1;
    const changed: FlagChange[] = [];
    const conflicts: number[] = [];
    const upsert = ctx.sql.get(
      `INSERT INTO private_seen (mailbox_id, viewer, uid, seen, modseq) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (mailbox_id, viewer, uid) DO UPDATE SET seen = excluded.seen, modseq = excluded.modseq`,
    );
    for (const row of rows) {
      if (unchangedSince !== undefined && Math.max(row.modseq, row.pmodseq ?? 0) > unchangedSince) {
        conflicts.push(row.uid);
        continue;
      }
      if ((row.seen ?? 0) !== 0 === seen) continue;
      upsert.run(box.id, viewer, row.uid, seen ? 1 : 0, modseq);
      ctx.privateSeenRows.noteInsert(); // an EXPUNGE must delete private \Seen rows from now on
      changed.push({ uid: row.uid, flags: viewerFlags(parseFlags(row.flags), seen), modseq });
    }
    if (changed.length > 0) {
      ctx.snapshots.noteWrite(box.id);
      ctx.sql.get('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?').run(modseq, box.id);
      for (const c of changed) published.push({ ...c, flags: [...c.flags] });
    }
    return { changed, conflicts };
  });
  if (published.length > 0) ctx.feed.publish(scope.user, { kind: 'flags', mailboxId, changes: published, origin: scope.origin, viewer });
  return result;
}
