/**
 * Puts a database's previews back as schema v17–v23 kept them (the content_preview table, no
 * content_structures.preview column), for tests that roll a store back below v24.
 */
import type { Database } from 'better-sqlite3';

export function unfoldPreviews(db: Database): void {
  db.exec(`
    CREATE TABLE content_preview (
      content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
      preview TEXT NOT NULL
    );
    INSERT INTO content_preview (content_id, preview) SELECT content_id, preview FROM content_structures WHERE preview IS NOT NULL;
    ALTER TABLE content_structures DROP COLUMN preview;
  `);
}
