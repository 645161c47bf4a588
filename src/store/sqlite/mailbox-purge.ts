/**
 * DELETE of a large mailbox without one long stretch on the event loop (issue 13).
 *
 * Removing 20,000 message rows and their content references in one transaction held the loop for
 * about 250 ms (bench/stall.ts). So DELETE is two steps:
 *
 * 1. One short transaction takes the mailbox out of the user's view: its row gets a name no valid
 *    mailbox name can have (TOMBSTONE_PREFIX, with a NUL) and is marked \Noselect, the user's quota
 *    usage drops by what it held (one aggregate over its rows), and `mailbox_purges` records the
 *    work left. From then on LIST, CREATE, RENAME, the mailbox count and every lookup by id (a
 *    session that had it selected) behave as if it were gone; a mailbox created under the same
 *    name is a new row with a new id and a fresh UIDVALIDITY (RFC 3501 §2.3.1.1), as before.
 * 2. The purger deletes its messages PURGE_SLICE at a time, each slice its own group-commit job
 *    (a few milliseconds), releases their bodies, removes files only once the slice is durable,
 *    and finally deletes the row and its record. It runs after the DELETE is answered, and again
 *    at every open for whatever a crash or kill -9 left (the records survive: they were
 *    committed with the tombstone).
 *
 * Usage was taken off in step 1, so the slices do not touch it: the user's quota is right from the
 * moment DELETE answers OK, and stays right if the process dies half-way through the purge.
 */
import type { StoreContext } from './context.js';
import { releaseContents, removeFiles } from './contents.js';
import { addUsage } from './quota.js';
import { TOMBSTONE_PREFIX, isTombstone } from './tombstone.js';
import { recordExpungedRows } from './expunged-log.js';

/** Messages deleted per transaction while purging a deleted mailbox: a few milliseconds of work. */
export const PURGE_SLICE = 250;


/**
 * Step 1, inside the caller's write transaction: the mailbox leaves the user's view — renamed to a
 * tombstone, or, with `keepName` (it has children, RFC 3501 §6.3.4), kept as \\Noselect under its
 * name and id, which no session can select or write to. Returns whether messages are left to purge.
 */
export function tombstoneMailbox(ctx: StoreContext, mailboxId: number, keepName: boolean): boolean {
  // A \Noselect parent still being purged, deleted now that its children are gone: its usage was
  // taken off already.
  let purging = ctx.sql.get('SELECT 1 FROM mailbox_purges WHERE mailbox_id = ?').get(mailboxId) !== undefined;
  if (!purging) {
    const held = ctx.sql.get('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM messages WHERE mailbox_id = ?').get(mailboxId) as {
      n: number;
      bytes: number;
    };
    if (held.n > 0) {
      // Its usage leaves the user's now (the row stays, as a tombstone, until the purge ends).
      addUsage(ctx, mailboxId, -held.bytes, -held.n);
      ctx.sql.get('INSERT INTO mailbox_purges (mailbox_id) VALUES (?)').run(mailboxId);
      purging = true;
    }
  }
  if (keepName) {
    ctx.sql.get('UPDATE mailboxes SET noselect = 1, special_use = NULL, highest_modseq = highest_modseq + 1 WHERE id = ?').run(mailboxId);
  } else if (purging) {
    ctx.sql.get('UPDATE mailboxes SET name = ?, noselect = 1, special_use = NULL WHERE id = ?').run(`${TOMBSTONE_PREFIX}${mailboxId}`, mailboxId);
  } else {
    ctx.sql.get('DELETE FROM mailboxes WHERE id = ?').run(mailboxId);
  }
  // A chunked COPY into it that is still running fails at its next chunk (the mailbox cannot take
  // messages any more); its rollback must not take the usage off a second time, and the purge
  // removes what its earlier chunks inserted anyway.
  ctx.sql.get('DELETE FROM copies_in_progress WHERE mailbox_id = ?').run(mailboxId);
  // Other users' own \Seen of its messages goes with them (also when the name stays as \Noselect).
  ctx.sql.get('DELETE FROM private_seen WHERE mailbox_id = ?').run(mailboxId);
  return purging;
}

/** Whether a mailbox still has messages waiting to be purged (a \\Noselect parent cannot be re-created until then). */
export function isPurging(ctx: StoreContext, mailboxId: number): boolean {
  return ctx.sql.get('SELECT 1 FROM mailbox_purges WHERE mailbox_id = ?').get(mailboxId) !== undefined;
}

/** How long idle() waits in a process that does not purge (the maintaining one looks once a second). */
const NOT_MAINTAINING_WAIT_MS = 50;

/** Removes the messages of deleted mailboxes in slices, one at a time in the background. */
export class MailboxPurger {
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  /**
   * `maintains` false: another process purges (a shared folder's maintaining process, which finds
   * the mailboxes to purge by itself: shared-upkeep.ts); kick() does nothing and idle() waits a moment.
   */
  constructor(private readonly maintains = true) {}

  /** Starts purging (or makes a running purge look again for new work). */
  kick(ctx: StoreContext): void {
    if (this.closed || !this.maintains) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop(ctx)
      .catch((err: unknown) => ctx.logger?.warn({ err }, 'purging a deleted mailbox failed; it is resumed at the next start'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Stops after the slice in progress; what is left is resumed at the next open. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }

  /** Resolves when nothing is left to purge (or the purger stopped); for tests and the CLI. */
  async idle(): Promise<void> {
    if (!this.maintains) await new Promise((resolve) => setTimeout(resolve, NOT_MAINTAINING_WAIT_MS));
    while (this.running) await this.running;
  }

  private async loop(ctx: StoreContext): Promise<void> {
    do {
      this.again = false;
      const pending = ctx.sql.get('SELECT mailbox_id FROM mailbox_purges ORDER BY mailbox_id').pluck().all() as number[];
      for (const mailboxId of pending) {
        while (!this.closed) {
          let out: Slice = { done: true, files: [] };
          await ctx.group.run(() => {
            out = purgeSlice(ctx, mailboxId);
          });
          // Only once the slice is durable: a crash must not leave rows whose bytes are gone.
          removeFiles(ctx, out.files);
          const { done, expunged } = out;
          if (expunged) ctx.feed.publish(expunged.user, { kind: 'expunge', mailboxId: String(mailboxId), uids: expunged.uids, origin: undefined });
          if (done) break;
        }
        if (this.closed) return;
      }
    } while (this.again && !this.closed);
  }
}

interface Slice {
  done: boolean;
  files: Buffer[];
  /** For a \\Noselect parent kept under its name: who hears of the expunged UIDs. */
  expunged?: { user: string; uids: number[] };
}

/** One slice, inside a group-commit transaction. `done` when nothing is left of the mailbox's messages. */
function purgeSlice(ctx: StoreContext, mailboxId: number): Slice {
  const box = ctx.sql.get('SELECT b.name, b.highest_modseq, u.name AS user FROM mailboxes b JOIN users u ON u.id = b.user_id WHERE b.id = ?').get(mailboxId) as
    | { name: string; highest_modseq: number; user: string }
    | undefined;
  if (!box) {
    ctx.sql.get('DELETE FROM mailbox_purges WHERE mailbox_id = ?').run(mailboxId);
    return { done: true, files: [] };
  }
  ctx.snapshots.noteWrite(mailboxId); // as every write to a mailbox's messages does
  const rows = ctx.sql
    .get('DELETE FROM messages WHERE mailbox_id = ? AND uid IN (SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid LIMIT ?) RETURNING uid, content_id')
    .all(mailboxId, mailboxId, PURGE_SLICE) as Array<{ uid: number; content_id: number }>;
  const files = releaseContents(
    ctx,
    rows.map((r) => r.content_id),
  );
  const done = rows.length < PURGE_SLICE;
  if (done) ctx.sql.get('DELETE FROM mailbox_purges WHERE mailbox_id = ?').run(mailboxId);
  if (isTombstone(box.name)) {
    // The last slice takes the row too (its expunge log and saved snapshot go by cascade).
    if (done) ctx.sql.get('DELETE FROM mailboxes WHERE id = ?').run(mailboxId);
    return { done, files };
  }
  // A \Noselect parent keeps its id: the removal is an expunge like any other (RFC 7162 §3.2.10).
  if (rows.length === 0) return { done, files };
  const uids = rows.map((r) => r.uid).sort((x, y) => x - y);
  ctx.sql.get('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?').run(box.highest_modseq + 1, mailboxId);
  recordExpungedRows(ctx, mailboxId, uids, box.highest_modseq + 1);
  return { done, files, expunged: { user: box.user, uids } };
}
