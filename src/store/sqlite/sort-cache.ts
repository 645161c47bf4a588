/**
 * The SORT/THREAD keys of recently sorted mailboxes, in memory (UserMailbox.sortData). Reading
 * 100,000 content_sort rows takes ~150 ms; a repeated SORT must not pay that again, so the list is
 * kept and brought up to date cheaply when the mailbox changed: rows above the old UIDNEXT are the
 * new messages, and only when the count shows expunges is the list of UIDs read to drop them.
 * Only this process writes the database (exclusive lock), so nothing changes behind the cache.
 *
 * While a mailbox's messages are unchanged the same array is returned, as the contract asks, so
 * the IMAP layer's caches of sorted orders and threads (keyed by it) stay valid across commands
 * and sessions. Bounded by the total number of messages held (least recently used mailboxes go).
 */
import type { SortableMessage } from '../types.js';
import type { MailboxRow, StoreContext } from './context.js';
import { SORTABLE_COLUMNS, sortableFromRow } from './sort-columns.js';

interface Entry {
  highestModseq: number;
  uidNext: number;
  list: readonly SortableMessage[];
}

export const DEFAULT_SORT_CACHE_MESSAGES = 500_000;

const FROM = 'FROM messages m JOIN content_sort s ON s.content_id = m.content_id';

export class SortCache {
  private readonly entries = new Map<number, Entry>();
  private held = 0;

  constructor(private readonly maxMessages = DEFAULT_SORT_CACHE_MESSAGES) {}

  list(ctx: StoreContext, box: MailboxRow): readonly SortableMessage[] {
    const entry = this.entries.get(box.id);
    if (entry) {
      this.entries.delete(box.id);
      this.entries.set(box.id, entry); // most recently used
      if (entry.highestModseq === box.highest_modseq) return entry.list;
      const fresh = this.refresh(ctx, box, entry);
      this.replace(box.id, entry, fresh);
      return fresh.list;
    }
    const rows = ctx.sql.get(`SELECT ${SORTABLE_COLUMNS} ${FROM} WHERE m.mailbox_id = ? ORDER BY m.uid`).raw().all(box.id) as unknown[][];
    const created: Entry = { highestModseq: box.highest_modseq, uidNext: box.uid_next, list: rows.map(sortableFromRow) };
    this.replace(box.id, undefined, created);
    return created.list;
  }

  /** The entry brought up to `box`: flag changes keep the list; appends and expunges edit a copy. */
  private refresh(ctx: StoreContext, box: MailboxRow, entry: Entry): Entry {
    const count = ctx.sql.get('SELECT count(*) FROM messages WHERE mailbox_id = ?').pluck().get(box.id) as number;
    if (entry.uidNext === box.uid_next && entry.list.length === count) return { ...entry, highestModseq: box.highest_modseq };
    const added = (ctx.sql.get(`SELECT ${SORTABLE_COLUMNS} ${FROM} WHERE m.mailbox_id = ? AND m.uid >= ? ORDER BY m.uid`).raw().all(box.id, entry.uidNext) as unknown[][]).map(
      sortableFromRow,
    );
    let kept = entry.list;
    if (kept.length + added.length !== count) {
      const present = new Set(ctx.sql.get('SELECT uid FROM messages WHERE mailbox_id = ? AND uid < ?').pluck().all(box.id, entry.uidNext) as number[]);
      kept = kept.filter((m) => present.has(m.uid));
    }
    return { highestModseq: box.highest_modseq, uidNext: box.uid_next, list: added.length === 0 ? kept : kept.concat(added) };
  }

  private replace(id: number, old: Entry | undefined, next: Entry): void {
    this.held += next.list.length - (old?.list.length ?? 0);
    this.entries.set(id, next);
    for (const [key, e] of this.entries) {
      if (this.held <= this.maxMessages || key === id) break;
      this.entries.delete(key);
      this.held -= e.list.length;
    }
  }
}
