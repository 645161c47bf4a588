/**
 * The PostgreSQL side of `postroom migrate`: mailboxes and messages written with the UIDVALIDITY,
 * UIDs and modseqs they had in the source store (src/store/migrate/types.ts). Only into a user
 * who has nothing here yet, so nothing a client has seen from this store can change under it.
 */
import { StoreError } from '../errors.js';
import { normalizeFlags, serializeFlags } from '../sqlite/flags.js';
import { validateMailboxName } from '../names.js';
import type { ImportedMailbox, ImportedMessage, MigrationTarget, UserImporter } from '../migrate/types.js';
import type { PrivateSeen } from '../types.js';
import { collectBody, storeContent } from './contents.js';
import type { PgContext } from './context.js';
import { parseId, transaction } from './db.js';
import { nextUidValidity } from './mailbox-tree.js';

export function pgMigrationTarget(ctx: PgContext, userId: (user: string) => Promise<number>): MigrationTarget {
  return {
    async importUser(user: string): Promise<UserImporter> {
      const id = await userId(user);
      const { rows } = await ctx.pool.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM mailboxes WHERE user_id = $1 AND name <> 'INBOX')
              + (SELECT count(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = $1) AS n`,
        [id],
      );
      if (rows[0]!.n > 0) throw new StoreError('alreadyexists', `user ${user} already has mail in the target store; migrate into an empty one`);
      return new PgUserImporter(ctx, id);
    },
  };
}

class PgUserImporter implements UserImporter {
  constructor(
    private readonly ctx: PgContext,
    private readonly userId: number,
  ) {}

  async mailbox(m: ImportedMailbox): Promise<string> {
    const name = validateMailboxName(m.name, this.ctx.delimiter);
    return transaction(this.ctx.pool, async (tx) => {
      // UIDVALIDITY stays unique in this database: the counter moves past every imported one.
      if (m.uidValidity !== undefined) {
        await tx.query("UPDATE postroom_meta SET value = greatest(value, $1) WHERE key = 'last_uidvalidity'", [m.uidValidity]);
      }
      const uidValidity = m.uidValidity ?? (await nextUidValidity(tx));
      const values = [this.userId, name, m.noselect, m.specialUse ?? null, uidValidity, m.uidNext ?? 1, m.highestModseq ?? 1];
      const { rows } = await tx.query<{ id: number }>(
        `INSERT INTO mailboxes (user_id, name, noselect, special_use, uid_validity, uid_next, highest_modseq, recent_uid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $6)
         ON CONFLICT (user_id, name) DO UPDATE SET noselect = $3, special_use = $4, uid_validity = $5, uid_next = $6,
           highest_modseq = $7, recent_uid = $6
         RETURNING id`,
        values,
      );
      return String(rows[0]!.id);
    });
  }

  async messages(mailboxId: string, batch: ImportedMessage[]): Promise<void> {
    const id = parseId(mailboxId);
    await transaction(this.ctx.pool, async (tx) => {
      for (const m of batch) {
        const contentId = await storeContent(tx, this.ctx.blobs, await collectBody(m.content));
        await tx.query(
          `INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, created_modseq, internal_date, size, save_date)
           VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)`,
          [
            id,
            m.uid,
            contentId,
            serializeFlags(normalizeFlags(m.flags)),
            m.modseq,
            m.internalDate.getTime(),
            m.content.length,
            m.saveDate === undefined ? Date.now() : (m.saveDate?.getTime() ?? null),
          ],
        );
      }
    });
  }

  async subscriptions(names: string[]): Promise<void> {
    await transaction(this.ctx.pool, async (tx) => {
      await tx.query('DELETE FROM subscriptions WHERE user_id = $1', [this.userId]);
      await tx.query('INSERT INTO subscriptions (user_id, name) SELECT $1, n FROM unnest($2::text[]) AS n ON CONFLICT DO NOTHING', [this.userId, names]);
    });
  }

  async privateSeen(mailboxId: string, viewer: string, rows: PrivateSeen[]): Promise<void> {
    if (rows.length === 0) return;
    const id = parseId(mailboxId);
    await transaction(this.ctx.pool, async (tx) => {
      await tx.query(
        `INSERT INTO private_seen (mailbox_id, viewer, uid, seen, modseq)
         SELECT $1, $2, r.uid, r.seen, r.modseq FROM unnest($3::bigint[], $4::boolean[], $5::bigint[]) AS r(uid, seen, modseq)
         ON CONFLICT (mailbox_id, viewer, uid) DO UPDATE SET seen = excluded.seen, modseq = excluded.modseq`,
        [id, viewer, rows.map((r) => r.uid), rows.map((r) => r.seen), rows.map((r) => r.modseq)],
      );
      await tx.query('UPDATE mailboxes SET highest_modseq = greatest(highest_modseq, $2) WHERE id = $1', [id, rows.reduce((m, r) => Math.max(m, r.modseq), 0)]);
    });
  }
}
