/**
 * RFC 4467 mailbox access keys in the PostgreSQL store (UserMailbox.urlauthKey/resetUrlauthKeys):
 * table urlauth_keys (schema.ts, versions 9 and 11), one row per mailbox and holder — the
 * mailbox's owner, or a user it is shared with (§2.2: the key is "per-user and per-mailbox").
 * Deleting a mailbox deletes its keys (the rows' foreign key, or mailbox-tree.ts for a parent left
 * \Noselect).
 */
import { randomBytes } from 'node:crypto';
import { mailboxRow, type PgScope } from './context.js';
import { transaction } from './db.js';
import type { MailboxChange } from '../types.js';

/** Key length in bytes: RFC 4467 §2.2 asks for at least 128 bits. */
const URLAUTH_KEY_BYTES = 32;

export async function readUrlauthKey(scope: PgScope, mailboxId: string, holder: string, create: boolean): Promise<Buffer | null> {
  const box = await mailboxRow(scope.ctx.pool, scope, mailboxId);
  if (create) {
    await scope.ctx.pool.query('INSERT INTO urlauth_keys (mailbox_id, holder, key) VALUES ($1, $2, $3) ON CONFLICT (mailbox_id, holder) DO NOTHING', [
      box.id,
      holder,
      randomBytes(URLAUTH_KEY_BYTES),
    ]);
  }
  const { rows } = await scope.ctx.pool.query<{ key: Buffer }>('SELECT key FROM urlauth_keys WHERE mailbox_id = $1 AND holder = $2', [box.id, holder]);
  return rows[0]?.key ?? null;
}

/**
 * Durable on return; then this node's sessions of the holder hear it (kind 'urlauth' with
 * `viewer`: RFC 4467 §7 has the ones with the mailbox selected told URLMECH) — on the owner's
 * feed, which a reader's session of a shared mailbox follows — and the other nodes' from the
 * notification sent with the change (cluster-feed.ts notifyUrlauth).
 */
export async function resetUrlauthKeys(scope: PgScope, mailboxId?: string, holder: string = scope.user): Promise<void> {
  const { ctx } = scope;
  const change = (extra: { mailboxId?: string }): MailboxChange => ({
    kind: 'urlauth',
    ...extra,
    viewer: mailboxId === undefined ? scope.user : holder,
    ...(scope.origin === undefined ? {} : { origin: scope.origin }),
  });
  if (mailboxId === undefined) {
    // Every key the user holds, in any owner's mailbox: the owners other than the user are told too.
    const owners = await transaction(ctx.pool, async (tx) => {
      const { rows } = await tx.query<{ name: string }>(
        `WITH gone AS (DELETE FROM urlauth_keys WHERE holder = $1 RETURNING mailbox_id)
         SELECT DISTINCT u.name FROM gone JOIN mailboxes m ON m.id = gone.mailbox_id JOIN users u ON u.id = m.user_id WHERE m.user_id <> $2`,
        [scope.user, scope.userId],
      );
      const names = rows.map((r) => r.name);
      for (const user of [scope.user, ...names]) await ctx.feed.notifyUrlauth(tx, user, scope.user);
      return names;
    });
    for (const user of [scope.user, ...owners]) ctx.feed.publishNow(user, change({}));
    return;
  }
  const box = await mailboxRow(ctx.pool, scope, mailboxId);
  await transaction(ctx.pool, async (tx) => {
    await tx.query('INSERT INTO urlauth_keys (mailbox_id, holder, key) VALUES ($1, $2, $3) ON CONFLICT (mailbox_id, holder) DO UPDATE SET key = excluded.key', [
      box.id,
      holder,
      randomBytes(URLAUTH_KEY_BYTES),
    ]);
    await ctx.feed.notifyUrlauth(tx, scope.user, holder, box.id);
  });
  ctx.feed.publishNow(scope.user, change({ mailboxId }));
}
