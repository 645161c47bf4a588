/**
 * Puts a database back in the layout schema v17–v23 had below what v24 changed: the previews in
 * their own table (content_preview) and quota usage in one row per user (quota_usage), for tests
 * that roll a store back below v24 (and without v25's messages_deleted index and v26's
 * released_files and file_installs tables).
 */
import type { Database } from 'better-sqlite3';

export function undoV24(db: Database): void {
  // v25's index and v26's tables go too: the store's migration creates them again on the way up.
  db.exec(`
    DROP INDEX IF EXISTS messages_deleted;
    DROP TABLE IF EXISTS released_files;
    DROP TABLE IF EXISTS file_installs;
    CREATE TABLE content_preview (
      content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
      preview TEXT NOT NULL
    );
    INSERT INTO content_preview (content_id, preview) SELECT content_id, preview FROM content_structures WHERE preview IS NOT NULL;
    ALTER TABLE content_structures DROP COLUMN preview;
    CREATE TABLE quota_usage (
      user_id INTEGER PRIMARY KEY REFERENCES users(id),
      storage INTEGER NOT NULL,
      messages INTEGER NOT NULL
    );
    INSERT INTO quota_usage (user_id, storage, messages)
      SELECT user_id, sum(usage_storage), sum(usage_messages) FROM mailboxes GROUP BY user_id;
    ALTER TABLE mailboxes DROP COLUMN usage_storage;
    ALTER TABLE mailboxes DROP COLUMN usage_messages;
  `);
}
