/**
 * Header blocks of recently fetched bodies, by content id — Postroom's counterpart of Dovecot's
 * cache file for header fields. A client listing a folder (and imaptest's FETCH) asks
 * BODY.PEEK[HEADER.FIELDS (…)] of the same messages again and again; each miss costs reading the
 * inline body out of the database (SQLite loads the whole blob for substr()) or opening its file.
 * A content row's bytes never change and its id is never given to other bytes (content-ids.ts),
 * so an entry can never be stale; it only outlives its body, and leaves by age. Bounded in bytes
 * (about: the bound plus one block).
 */

import { RecentCache } from '../../util/recent-map.js';

/**
 * Default bound: 16 MiB, about 5,000 headers of ordinary mail (3 KB each) or 50,000 of the bench's
 * short ones. It was 4 MiB: under imaptest's persistent mix at 50 clients (about 40 users' 400-message
 * mailboxes in play) a header FETCH then mostly missed, and each miss reads the body out of the
 * database again (bench/RESULTS.md, issue 23).
 */
export const HEADER_CACHE_BYTES = 16 * 1024 * 1024;

export class HeaderCache {
  // Two generations (RecentCache): a page's hits move nothing; blocks unused for two turns go.
  private readonly entries: RecentCache<number, Buffer>;

  constructor(private readonly maxBytes = HEADER_CACHE_BYTES) {
    this.entries = new RecentCache<number, Buffer>(maxBytes, (b) => b.length);
  }

  get(contentId: number): Buffer | undefined {
    return this.entries.get(contentId);
  }

  /** Keeps `header` (a copy when it is a view into a larger buffer, so the body is not held). */
  set(contentId: number, header: Buffer): void {
    // One header may take at most an eighth of the cache: a huge header block is not worth the room.
    if (header.length * 8 > this.maxBytes) return;
    const own = header.byteOffset === 0 && header.buffer.byteLength === header.length ? header : Buffer.from(header);
    this.entries.set(contentId, own);
  }

  /** Drops a released content's header block (no message can ask for it again). */
  forget(contentId: number): void {
    this.entries.delete(contentId);
  }

  get size(): number {
    return this.entries.size;
  }
}
