/**
 * The SQLite side of `postroom migrate`: mailboxes and messages written with the UIDVALIDITY, UIDs
 * and modseqs they had in the source store (src/store/migrate/types.ts), only into a user who has
 * nothing here yet. Bodies take the same path as APPEND (inline, or a synced file installed inside
 * the transaction), and every batch is synced before it resolves.
 */
import { StoreError } from '../errors.js';
import { validateMailboxName } from '../names.js';
import type { ImportedMailbox, ImportedMessage, MigrationTarget, UserImporter } from '../migrate/types.js';
import type { PrivateSeen } from '../types.js';
import { collectContent, releaseCollected, type Collected } from './content.js';
import { addReference, findContent, insertContent } from './contents.js';
import { write, type StoreContext } from './context.js';
import { normalizeFlags, serializeFlags } from './flags.js';
import { nextUidValidity } from './mailbox-tree.js';
import { deriveContent, type Parsed } from './message-writes.js';
import { readFile } from 'node:fs/promises';
import { addUsage } from './quota.js';

export function sqliteMigrationTarget(ctx: StoreContext, userId: (user: string) => Promise<number>): MigrationTarget {
  return {
    async importUser(user: string): Promise<UserImporter> {
      const id = await userId(user);
      const n = ctx.sql
        .get(
          `SELECT (SELECT count(*) FROM mailboxes WHERE user_id = ? AND name <> 'INBOX' AND substr(name, 1, 1) <> char(0))
                + (SELECT count(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = ? AND substr(b.name, 1, 1) <> char(0))`,
        )
        .pluck()
        .get(id, id) as number;
      if (n > 0) throw new StoreError('alreadyexists', `user ${user} already has mail in the target store; migrate into an empty one`);
      return new SqliteUserImporter(ctx, id);
    },
  };
}

class SqliteUserImporter implements UserImporter {
  constructor(
    private readonly ctx: StoreContext,
    private readonly userId: number,
  ) {}

  async mailbox(m: ImportedMailbox): Promise<string> {
    const { ctx } = this;
    const name = validateMailboxName(m.name, ctx.delimiter);
    await ctx.group.whenOpen();
    const id = write(ctx, () => {
      // UIDVALIDITY stays unique in this database: the counter moves past every imported one.
      if (m.uidValidity !== undefined) {
        ctx.sql.get("INSERT INTO meta (key, value) VALUES ('last_uidvalidity', ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)").run(m.uidValidity);
      }
      const uidValidity = m.uidValidity ?? nextUidValidity(ctx);
      const uidNext = m.uidNext ?? 1;
      return ctx.sql
        .get(
          `INSERT INTO mailboxes (user_id, name, noselect, special_use, uid_validity, uid_next, highest_modseq, recent_uid)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id, name) DO UPDATE SET noselect = excluded.noselect, special_use = excluded.special_use,
             uid_validity = excluded.uid_validity, uid_next = excluded.uid_next, highest_modseq = excluded.highest_modseq,
             recent_uid = excluded.recent_uid
           RETURNING id`,
        )
        .pluck()
        .get(this.userId, name, m.noselect ? 1 : 0, m.specialUse ?? null, uidValidity, uidNext, m.highestModseq ?? 1, uidNext) as number;
    });
    await ctx.durable.sync();
    return String(id);
  }

  async messages(mailboxId: string, batch: ImportedMessage[]): Promise<void> {
    const { ctx } = this;
    const prepared: Array<{ m: ImportedMessage; collected: Collected; derived: Parsed }> = [];
    try {
      for (const m of batch) {
        const collected = await collectContent(m.content, ctx.inlineMax, ctx.files);
        try {
          const raw = collected.kind === 'inline' ? collected.body : (collected.body ?? (await readFile(collected.tempPath)));
          // A body file is installed by the COMMIT below, so it must be on disk before it.
          // Its close first: TempBlob.finish only starts it, and a failed close is a failed write.
          if (collected.kind === 'file') {
            await collected.closed;
            await ctx.files.syncTemp(collected.tempPath);
          }
          prepared.push({ m, collected, derived: deriveContent(raw) });
        } finally {
          releaseCollected(collected);
        }
      }
      await ctx.group.whenOpen();
      ctx.snapshots.noteWrite(Number(mailboxId));
      write(ctx, () => {
        const insert = ctx.sql.get(
          'INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size, save_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        );
        for (const { m, collected, derived } of prepared) {
          let contentId = findContent(ctx, collected.sha256)?.id;
          if (contentId === undefined) {
            contentId = insertContent(ctx, collected.sha256, collected.size, collected.kind === 'inline' ? collected.body : null, derived);
            if (collected.kind === 'file') ctx.files.installSync(collected.tempPath, collected.sha256);
          }
          addReference(ctx, contentId);
          insert.run(Number(mailboxId), m.uid, contentId, serializeFlags(normalizeFlags(m.flags)), m.modseq, m.internalDate.getTime(), collected.size, m.saveDate === undefined ? Date.now() : (m.saveDate?.getTime() ?? null));
        }
        addUsage(ctx, Number(mailboxId), prepared.reduce((n, p) => n + p.collected.size, 0), prepared.length);
      });
      await ctx.durable.sync();
    } finally {
      for (const p of prepared) if (p.collected.kind === 'file') ctx.files.discardSync(p.collected.tempPath);
    }
  }

  async subscriptions(names: string[]): Promise<void> {
    const { ctx } = this;
    await ctx.group.whenOpen();
    write(ctx, () => {
      ctx.sql.get('DELETE FROM subscriptions WHERE user_id = ?').run(this.userId);
      const add = ctx.sql.get('INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)');
      for (const name of names) add.run(this.userId, name);
    });
    await ctx.durable.sync();
  }

  async privateSeen(mailboxId: string, viewer: string, rows: PrivateSeen[]): Promise<void> {
    if (rows.length === 0) return;
    const { ctx } = this;
    const id = Number(mailboxId);
    await ctx.group.whenOpen();
    ctx.snapshots.noteWrite(id);
    write(ctx, () => {
      const upsert = ctx.sql.get(
        `INSERT INTO private_seen (mailbox_id, viewer, uid, seen, modseq) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (mailbox_id, viewer, uid) DO UPDATE SET seen = excluded.seen, modseq = excluded.modseq`,
      );
      for (const r of rows) upsert.run(id, viewer, r.uid, r.seen ? 1 : 0, r.modseq);
      ctx.privateSeenRows.noteInsert();
      ctx.sql.get('UPDATE mailboxes SET highest_modseq = max(highest_modseq, ?) WHERE id = ?').run(rows.reduce((m, r) => Math.max(m, r.modseq), 0), id);
    });
    await ctx.durable.sync();
  }
}
