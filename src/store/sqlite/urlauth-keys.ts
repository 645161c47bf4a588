/**
 * RFC 4467 mailbox access keys in the SQLite store (UserMailbox.urlauthKey/resetUrlauthKeys):
 * table urlauth_keys (schema.ts, version 21), one row per mailbox of its owner. Deleting a
 * mailbox deletes its key (mailbox-tree.ts deleteMailbox).
 */
import { randomBytes } from 'node:crypto';
import { mailboxById, type UserScope } from './context.js';

/** Key length in bytes: RFC 4467 §2.2 asks for at least 128 bits. */
export const URLAUTH_KEY_BYTES = 32;

export function readUrlauthKey(scope: UserScope, mailboxId: string): Buffer | null {
  const box = mailboxById(scope, mailboxId);
  const row = scope.ctx.sql.get('SELECT key FROM urlauth_keys WHERE mailbox_id = ?').get(box.id) as { key: Buffer } | undefined;
  return row ? Buffer.from(row.key) : null;
}

export async function createUrlauthKey(scope: UserScope, mailboxId: string): Promise<Buffer> {
  const box = mailboxById(scope, mailboxId);
  await scope.ctx.group.run(() => {
    scope.ctx.sql.get('INSERT INTO urlauth_keys (mailbox_id, key) VALUES (?, ?) ON CONFLICT (mailbox_id) DO NOTHING').run(box.id, randomBytes(URLAUTH_KEY_BYTES));
  });
  return readUrlauthKey(scope, mailboxId)!;
}

/**
 * Durable on return; then the user's sessions hear it (kind 'urlauth': RFC 4467 §7 has the ones
 * with the mailbox selected told URLMECH). Worker processes hear it through the primary's feed.
 */
export async function resetUrlauthKeys(scope: UserScope, mailboxId?: string): Promise<void> {
  if (mailboxId === undefined) {
    await scope.ctx.group.run(() => {
      scope.ctx.sql.get('DELETE FROM urlauth_keys WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE user_id = ?)').run(scope.userId);
    });
    scope.ctx.feed.publish(scope.user, { kind: 'urlauth', origin: scope.origin });
    return;
  }
  const box = mailboxById(scope, mailboxId);
  await scope.ctx.group.run(() => {
    scope.ctx.sql
      .get('INSERT INTO urlauth_keys (mailbox_id, key) VALUES (?, ?) ON CONFLICT (mailbox_id) DO UPDATE SET key = excluded.key')
      .run(box.id, randomBytes(URLAUTH_KEY_BYTES));
  });
  scope.ctx.feed.publish(scope.user, { kind: 'urlauth', mailboxId, origin: scope.origin });
}
