/**
 * RFC 4467 mailbox access keys in the SQLite store (UserMailbox.urlauthKey/resetUrlauthKeys):
 * table urlauth_keys (schema.ts, versions 21 and 23), one row per mailbox and holder — the
 * mailbox's owner, or a user it is shared with (§2.2: the key is "per-user and per-mailbox").
 * Deleting a mailbox deletes its keys (mailbox-tree.ts deleteMailbox).
 */
import { randomBytes } from 'node:crypto';
import { mailboxById, type UserScope } from './context.js';
import type { MailboxChange } from '../types.js';

/** Key length in bytes: RFC 4467 §2.2 asks for at least 128 bits. */
export const URLAUTH_KEY_BYTES = 32;

export function readUrlauthKey(scope: UserScope, mailboxId: string, holder: string): Buffer | null {
  const box = mailboxById(scope, mailboxId);
  const row = scope.ctx.sql.get('SELECT key FROM urlauth_keys WHERE mailbox_id = ? AND holder = ?').get(box.id, holder) as { key: Buffer } | undefined;
  return row ? Buffer.from(row.key) : null;
}

export async function createUrlauthKey(scope: UserScope, mailboxId: string, holder: string): Promise<Buffer> {
  const box = mailboxById(scope, mailboxId);
  await scope.ctx.group.run(() => {
    scope.ctx.sql
      .get('INSERT INTO urlauth_keys (mailbox_id, holder, key) VALUES (?, ?, ?) ON CONFLICT (mailbox_id, holder) DO NOTHING')
      .run(box.id, holder, randomBytes(URLAUTH_KEY_BYTES));
  });
  return readUrlauthKey(scope, mailboxId, holder)!;
}

/**
 * Durable on return; then the holder's sessions hear it (kind 'urlauth' with `viewer`: RFC 4467
 * §7 has the ones with the mailbox selected told URLMECH) — on the owner's feed, which a reader's
 * session of a shared mailbox follows. Worker processes hear it through the primary's feed.
 */
export async function resetUrlauthKeys(scope: UserScope, mailboxId?: string, holder: string = scope.user): Promise<void> {
  const publish = (user: string, change: Omit<Extract<MailboxChange, { kind: 'urlauth' }>, 'kind' | 'origin'>): void =>
    scope.ctx.feed.publish(user, { kind: 'urlauth', ...change, ...(scope.origin === undefined ? {} : { origin: scope.origin }) });
  if (mailboxId === undefined) {
    // Every key the user holds, in any owner's mailbox: the owners other than the user are told too.
    const owners = await scope.ctx.group.run(() => {
      const names = scope.ctx.sql
        .get('SELECT DISTINCT u.name AS name FROM urlauth_keys k JOIN mailboxes m ON m.id = k.mailbox_id JOIN users u ON u.id = m.user_id WHERE k.holder = ? AND m.user_id <> ?')
        .all(scope.user, scope.userId) as Array<{ name: string }>;
      scope.ctx.sql.get('DELETE FROM urlauth_keys WHERE holder = ?').run(scope.user);
      return names.map((r) => r.name);
    });
    publish(scope.user, { viewer: scope.user });
    for (const owner of owners) publish(owner, { viewer: scope.user });
    return;
  }
  const box = mailboxById(scope, mailboxId);
  await scope.ctx.group.run(() => {
    scope.ctx.sql
      .get('INSERT INTO urlauth_keys (mailbox_id, holder, key) VALUES (?, ?, ?) ON CONFLICT (mailbox_id, holder) DO UPDATE SET key = excluded.key')
      .run(box.id, holder, randomBytes(URLAUTH_KEY_BYTES));
  });
  publish(scope.user, { mailboxId, viewer: holder });
}
