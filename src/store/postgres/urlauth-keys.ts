/**
 * RFC 4467 mailbox access keys in the PostgreSQL store (UserMailbox.urlauthKey/resetUrlauthKeys):
 * table urlauth_keys (schema.ts, version 9), one row per mailbox of its owner. Deleting a mailbox
 * deletes its key (the row's foreign key, or mailbox-tree.ts for a parent left \Noselect).
 */
import { randomBytes } from 'node:crypto';
import { mailboxRow, type PgScope } from './context.js';

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

export async function resetUrlauthKeys(scope: PgScope, mailboxId?: string): Promise<void> {
  if (mailboxId === undefined) {
    await scope.ctx.pool.query('DELETE FROM urlauth_keys WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE user_id = $1)', [scope.userId]);
    return;
  }
  const box = await mailboxRow(scope.ctx.pool, scope, mailboxId);
  await scope.ctx.pool.query(
    'INSERT INTO urlauth_keys (mailbox_id, key) VALUES ($1, $2) ON CONFLICT (mailbox_id) DO UPDATE SET key = excluded.key',
    [box.id, randomBytes(URLAUTH_KEY_BYTES)],
  );
}
