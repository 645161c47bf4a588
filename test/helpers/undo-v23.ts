/**
 * Puts `urlauth_keys` back as schema v21–v22 had it — one key per mailbox, the owner's — for tests
 * that roll a store back below v23 (v23 keys them by mailbox and holder).
 */
import type { Database } from 'better-sqlite3';

export function undoV23(db: Database): void {
  db.exec(`
    CREATE TABLE urlauth_keys_v22 (mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE, key BLOB NOT NULL);
    INSERT INTO urlauth_keys_v22 (mailbox_id, key)
      SELECT k.mailbox_id, k.key FROM urlauth_keys k JOIN mailboxes m ON m.id = k.mailbox_id JOIN users u ON u.id = m.user_id AND u.name = k.holder;
    DROP TABLE urlauth_keys;
    ALTER TABLE urlauth_keys_v22 RENAME TO urlauth_keys;
  `);
}
