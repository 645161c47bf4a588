/**
 * Content ids handed out in blocks, so a new body's commit does not write sqlite_sequence.
 *
 * `contents.id` is AUTOINCREMENT (schema v1): an id is never used twice, so nothing keyed by a
 * content id (StructureCache, SortCache, a search's text cache) can ever describe other bytes.
 * SQLite keeps that promise by storing the largest id in sqlite_sequence, and rewrites that row —
 * one more 4 KiB page in the WAL — in every transaction that inserts a content
 * (bench/wal-frames.ts: 1 of ~19 pages of a 10 KB delivery). An insert whose explicit id is at or
 * below the stored value leaves the row alone, so the store reserves ids ahead: one UPDATE raises
 * sqlite_sequence by CONTENT_ID_BLOCK, and the next CONTENT_ID_BLOCK bodies take ids from that
 * range, in order.
 *
 * Never reused: a block starts after the larger of the stored value and the largest id present,
 * and its ids are handed out only while sqlite_sequence still holds what the reservation wrote.
 * Anything else — the reservation rolled back with a failed job or batch, or another writer's
 * AUTOINCREMENT insert raised the value — makes the next id reserve a new block, after the
 * stored value, which SQLite keeps at or above every id ever committed. That check is one read
 * of a page in cache per new content. After a restart the unused rest of a block is skipped (ids
 * are 64-bit).
 */
import type { Statements } from './database.js';

/** Ids reserved per write of sqlite_sequence. */
export const CONTENT_ID_BLOCK = 1024;

export class ContentIds {
  /** The next id to hand out, and the last one reserved; next > last: reserve again. */
  private next = 1;
  private last = 0;

  /** The id for a new content row; inside the write transaction that inserts it. */
  take(sql: Statements): number {
    const stored = sql.get("SELECT seq FROM sqlite_sequence WHERE name = 'contents'").pluck().get() as number | undefined;
    if (this.next > this.last || stored !== this.last) {
      // The row is there from the first insert into contents on; before it, the reservation adds it.
      const raised = (sql
        .get("UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(id), 0) FROM contents)) + ? WHERE name = 'contents' RETURNING seq")
        .pluck()
        .get(CONTENT_ID_BLOCK) ??
        sql
          .get("INSERT INTO sqlite_sequence (name, seq) SELECT 'contents', coalesce(max(id), 0) + ? FROM contents RETURNING seq")
          .pluck()
          .get(CONTENT_ID_BLOCK)) as number;
      this.last = raised;
      this.next = raised - CONTENT_ID_BLOCK + 1;
    }
    return this.next++;
  }
}
