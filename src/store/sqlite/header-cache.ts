/**
 * Header blocks of recently fetched bodies, by content id — Postroom's counterpart of Dovecot's
 * cache file for header fields. A client listing a folder (and imaptest's FETCH) asks
 * BODY.PEEK[HEADER.FIELDS (…)] of the same messages again and again; each miss costs reading the
 * inline body out of the database (SQLite loads the whole blob for substr()) or opening its file.
 * A content row's bytes never change and its id is never given to other bytes (content-ids.ts),
 * so an entry can never be stale; it only outlives its body, and leaves by age. Bounded in bytes.
 */

import { takeRecent } from '../../util/recent-map.js';

/** Default bound: 4 MiB, about 2,000 headers of ordinary mail. */
export const HEADER_CACHE_BYTES = 4 * 1024 * 1024;

export class HeaderCache {
  private readonly entries = new Map<number, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes = HEADER_CACHE_BYTES) {}

  get(contentId: number): Buffer | undefined {
    return takeRecent(this.entries, contentId);
  }

  /** Keeps `header` (a copy when it is a view into a larger buffer, so the body is not held). */
  set(contentId: number, header: Buffer): void {
    // One header may take at most an eighth of the cache: a huge header block is not worth the room.
    if (header.length * 8 > this.maxBytes || this.entries.has(contentId)) return;
    const own = header.byteOffset === 0 && header.buffer.byteLength === header.length ? header : Buffer.from(header);
    this.entries.set(contentId, own);
    this.bytes += own.length;
    for (const [id, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= old.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
