/**
 * RFC 4467 mailbox access keys in the PostgreSQL store (UserMailbox.urlauthKey/resetUrlauthKeys):
 * table urlauth_keys (schema.ts, version 9), one row per mailbox of its owner. Deleting a mailbox
 * deletes its key (the row's foreign key, or mailbox-tree.ts for a parent left \Noselect).
 */
import { randomBytes } from 'node:crypto';
import { mailboxRow, type PgScope } from './context.js';
import { transaction } from './db.js';

/** Key length in bytes: RFC 4467 §2.2 asks for at least 128 bits. */
const URLAUTH_KEY_BYTES = 32;

export async function readUrlauthKey(scope: PgScope, mailboxId: string, create: boolean): Promise<Buffer | null> {
  const box = await mailboxRow(scope.ctx.pool, scope, mailboxId);
  if (create) {
    await scope.ctx.pool.query('INSERT INTO urlauth_keys (mailbox_id, key) VALUES ($1, $2) ON CONFLICT (mailbox_id) DO NOTHING', [box.id, randomBytes(URLAUTH_KEY_BYTES)]);
  }
  const { rows } = await scope.ctx.pool.query<{ key: Buffer }>('SELECT key FROM urlauth_keys WHERE mailbox_id = $1', [box.id]);
  return rows[0]?.key ?? null;
}

/**
 * Durable on return; then this node's sessions of the user hear it (kind 'urlauth': RFC 4467 §7
 * has the ones with the mailbox selected told URLMECH), and the other nodes' from the notification
 * sent with the change (cluster-feed.ts notifyUrlauth).
 */
export async function resetUrlauthKeys(scope: PgScope, mailboxId?: string): Promise<void> {
  const { ctx } = scope;
  if (mailboxId === undefined) {
    await transaction(ctx.pool, async (tx) => {
      await tx.query('DELETE FROM urlauth_keys WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE user_id = $1)', [scope.userId]);
      await ctx.feed.notifyUrlauth(tx, scope.user);
    });
    ctx.feed.publishNow(scope.user, { kind: 'urlauth', origin: scope.origin });
    return;
  }
  const box = await mailboxRow(ctx.pool, scope, mailboxId);
  await transaction(ctx.pool, async (tx) => {
    await tx.query('INSERT INTO urlauth_keys (mailbox_id, key) VALUES ($1, $2) ON CONFLICT (mailbox_id) DO UPDATE SET key = excluded.key', [
      box.id,
      randomBytes(URLAUTH_KEY_BYTES),
    ]);
    await ctx.feed.notifyUrlauth(tx, scope.user, box.id);
  });
  ctx.feed.publishNow(scope.user, { kind: 'urlauth', mailboxId, origin: scope.origin });
}
