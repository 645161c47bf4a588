/**
 * Parsed MIME structures of recently fetched bodies, by content id. FETCH ENVELOPE of a 25-message
 * page, or BODYSTRUCTURE followed by the sections a client then asks for, parse the same stored
 * JSON again and again; a body's structure never changes (a content row is written once and its
 * id, AUTOINCREMENT, is never given to other bytes), so an entry can never be stale — it only
 * outlives its body, and leaves by age. Callers treat the objects as read-only, as they do the
 * ones parsed afresh.
 */
import type { MessageStructure } from '../../mime/types.js';
import { RecentCache } from '../../util/recent-map.js';

/**
 * Entries kept (SqliteStore's `structureCacheEntries`). A parsed structure of an ordinary message
 * is about 1.3 KB of heap, and the encoded ENVELOPE and BODYSTRUCTURE kept with it by the IMAP
 * layer about 1.2 KB more (measured on the bench's mail) — some 80 MB when full. It
 * was 2,048: enough for one client's folder, but at 50 clients over their own 400-message mailboxes
 * nearly every FETCH missed, and a miss costs a statement, a JSON.parse (~13 µs) and a render per
 * message — a third of the server's CPU per command under imaptest's persistent mix (bench/RESULTS.md,
 * issue 23). Two generations (RecentCache) keep between half and all of it.
 */
export const STRUCTURE_CACHE_ENTRIES = 32768;

export class StructureCache {
  // Two generations (RecentCache): a FETCH page's hits move nothing; entries unused for two turns go.
  private readonly entries: RecentCache<number, MessageStructure>;

  constructor(max = STRUCTURE_CACHE_ENTRIES) {
    this.entries = new RecentCache<number, MessageStructure>(max);
  }

  /** The cached structure, without loading (a batch loads the misses together: messageHeads). */
  peek(contentId: number): MessageStructure | undefined {
    return this.entries.get(contentId);
  }

  /** Drops a released content's structure (no message can ask for it again). */
  forget(contentId: number): void {
    this.entries.delete(contentId);
  }

  get(contentId: number, load: () => string): MessageStructure {
    const hit = this.entries.get(contentId);
    if (hit) return hit;
    const parsed = JSON.parse(load()) as MessageStructure;
    this.entries.set(contentId, parsed);
    return parsed;
  }
}
