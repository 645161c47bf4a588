/**
 * Schema v24: RFC 8970 previews move from their own table (content_preview, v17) into a column of
 * content_structures, in steps.
 *
 * Why: every new body's commit wrote a leaf page of each per-content table; content_preview was
 * one more 4 KiB WAL page (of ~19) in each delivery and APPEND, for a row of a few hundred bytes
 * that is read by the same point lookups (FETCH) as the structure. One row per content now holds
 * both (bench/wal-frames.ts, bench/RESULTS.md).
 *
 * v24's own transaction adds the column (no row is rewritten: a new column without a default only
 * changes the schema). Each step moves the next PREVIEW_FOLD_STEP previews and deletes their old
 * rows, in one transaction, so a kill -9 loses at most one step and the next open resumes with
 * what is left; the step that finds the table empty drops it. A preview not computed yet (a
 * content from before v17, until a FETCH PREVIEW asks for it) is NULL, as its missing row was.
 */
import type { Database } from 'better-sqlite3';

/** Previews moved per step (each a few hundred bytes): milliseconds per transaction. */
export const PREVIEW_FOLD_STEP = 2_000;

/** v24's schema change: run inside the migration's transaction. */
export function startPreviewFold(db: Database): void {
  db.exec('ALTER TABLE content_structures ADD COLUMN preview TEXT');
}

/** One step, inside a transaction of its own: true while previews are left to move. */
export function previewFoldStep(db: Database): boolean {
  const left = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'content_preview'").get();
  if (!left) return false;
  const rows = db.prepare('SELECT content_id, preview FROM content_preview ORDER BY content_id LIMIT ?').all(PREVIEW_FOLD_STEP) as Array<{
    content_id: number;
    preview: string;
  }>;
  if (rows.length === 0) {
    db.exec('DROP TABLE content_preview');
    return false;
  }
  // A preview already in the column (computed again meanwhile) is the same text: either is right.
  const move = db.prepare('UPDATE content_structures SET preview = ? WHERE content_id = ? AND preview IS NULL');
  for (const r of rows) move.run(r.preview, r.content_id);
  db.prepare('DELETE FROM content_preview WHERE content_id <= ?').run(rows[rows.length - 1]!.content_id);
  return true;
}
