/**
 * STATUS counts (messages, unseen, size, recent) without one long stretch on the event loop.
 *
 * better-sqlite3 runs a statement to completion on the loop, and the aggregate over a mailbox of
 * 100,000 messages is one scan of its rows: 5–11 ms of CPU (more on a loaded machine), on every
 * STATUS, every POP3 login and every POP3 QUIT (issue 13: no command may hold the loop for more than
 * a few milliseconds). So a large mailbox is summed in pages of UIDs, each sized to take about half
 * a time slice, with a yield between slices — as SEARCH reads it (search.ts).
 *
 * The sum must still be one state of the mailbox, not pages of different moments (an EXPUNGE in a
 * page already summed and an APPEND after it would count a message count that never was). Every
 * write to a mailbox's messages moves its row in `mailboxes` (a flag change or an expunge raises
 * highest_modseq, an append uid_next too, the \Recent claim recent_uid), so the pages are one state
 * when that row is the same after the last page as before the first. If it moved, the pages are
 * summed again; after a few such rounds (a mailbox written to without pause), in one statement.
 */
import type { MailboxStatus } from '../types.js';
import { TimeSlice, DEFAULT_SLICE_MS } from '../../util/time-slice.js';
import { selectableMailbox, type MailboxRow, type UserScope } from './context.js';
import { takeRecent } from '../../util/recent-map.js';

const FIRST_PAGE = 4_096;
const MIN_PAGE = 256;
const MAX_PAGE = 65_536;
/** Rounds of pages tried before the one-statement sum. */
const ROUNDS = 3;

interface Sums {
  messages: number;
  size: number;
  unseen: number;
  recent: number;
}

const COUNTS = `count(*) AS messages,
  coalesce(sum(size), 0) AS size,
  coalesce(sum(instr(' ' || flags || ' ', ' \\Seen ') = 0), 0) AS unseen,
  coalesce(sum(uid >= ?), 0) AS recent`;

/** Mailboxes whose last sums are kept (least recently used dropped): a few dozen bytes each. */
const MAX_KEPT = 1_024;
/**
 * Mailboxes of up to this many messages keep each message's part of the sums (`each`), so that
 * their sums can be brought up to date from the rows written since (catchUp): one read of a few
 * thousand rows is about the longest stretch a STATUS may hold the event loop.
 */
const EACH_MAX = 5_000;
/** Messages' parts kept over all mailboxes (~50 bytes each); the least recently used give theirs up first. */
const EACH_TOTAL = 50_000;

/** A message's part of the sums: its size and whether it is unseen, in one number. */
const part = (size: number, flags: string): number => size * 2 + (unseenFlags(flags) ? 1 : 0);

/** The unseen test of COUNTS, on the flags column's text. */
const unseenFlags = (flags: string): boolean => !` ${flags} `.includes(' \\Seen ');

interface Kept {
  box: MailboxRow;
  sums: Sums;
  /** UID → part(): present once the mailbox was counted again after a write (see mailboxStatus). */
  each?: Map<number, number>;
  /** each's size when it was kept (catchUp changes the map in place before it is kept again). */
  eachCounted?: number;
}

/**
 * The last sums of recently counted mailboxes, each with the mailbox row it was counted at. By the
 * rule above, a mailbox whose row is unchanged still holds the same messages with the same flags,
 * so its sums are still true: a client polling STATUS on its folders (most of them unchanged since
 * the last poll), LIST-STATUS and NOTIFY's STATUS cost one read of the mailbox row instead of a
 * scan of its messages (≈ 70 µs for 400 messages, ms for 100,000). Only this process writes the
 * database (it holds the exclusive lock), so no row moves unseen; a restart starts empty.
 *
 * A mailbox written since its last count (imaptest's INBOX every round, a client's INBOX polled
 * while mail arrives) is brought up to date from what changed instead of counted again, when it
 * is small enough to keep each message's part (catchUp).
 */
export class StatusSums {
  private readonly kept = new Map<number, Kept>();
  private eachTotal = 0;

  get(box: MailboxRow): Sums | undefined {
    const entry = takeRecent(this.kept, box.id);
    if (!entry) return undefined;
    if (entry.box.name !== box.name || !sameState(entry.box, box)) return undefined;
    return entry.sums;
  }

  /** The kept entry of `box`, whatever row it was counted at (undefined for another mailbox of the same id). */
  stale(box: MailboxRow): Kept | undefined {
    const entry = this.kept.get(box.id);
    return entry && entry.box.name === box.name && entry.box.uid_validity === box.uid_validity ? entry : undefined;
  }

  set(box: MailboxRow, sums: Sums, each?: Map<number, number>): void {
    this.drop(box.id);
    this.kept.set(box.id, { box, sums, ...(each ? { each, eachCounted: each.size } : {}) });
    if (each) {
      this.eachTotal += each.size;
      // The least recently used entries give up their parts first (they keep their sums).
      for (const entry of this.kept.values()) {
        if (this.eachTotal <= EACH_TOTAL) break;
        if (entry.each && entry.each !== each) {
          this.eachTotal -= entry.eachCounted!;
          delete entry.each;
          delete entry.eachCounted;
        }
      }
    }
    for (const id of this.kept.keys()) {
      if (this.kept.size <= MAX_KEPT) break;
      this.drop(id);
    }
  }

  /** Forgets `id`'s entry (a catch-up that did not add up). */
  drop(id: number): void {
    const entry = this.kept.get(id);
    if (!entry) return;
    if (entry.each) this.eachTotal -= entry.eachCounted!;
    this.kept.delete(id);
  }
}

export async function mailboxStatus(scope: UserScope, mailboxId: string): Promise<MailboxStatus> {
  const cache = scope.ctx.statusSums;
  const first = selectableMailbox(scope, mailboxId);
  const kept = cache.get(first);
  if (kept) return status(first, kept);
  // Written since it was last counted: brought up to date, or (small enough) counted so it can be next time.
  const stale = cache.stale(first);
  // At most that many messages now: the kept count and every UID given out since.
  if (stale && stale.sums.messages + Math.max(0, first.uid_next - stale.box.uid_next) <= EACH_MAX) {
    const sums = (stale.each && catchUp(scope, first, stale)) || countEach(scope, first);
    if (sums) return status(first, sums);
  }
  const slice = new TimeSlice();
  for (let round = 0; round < ROUNDS; round++) {
    const box = round === 0 ? first : selectableMailbox(scope, mailboxId);
    const { sums, yielded } = await pagedSums(scope, box, slice);
    // No yield: nothing else ran between the pages. Else the mailbox row says whether anything did.
    if (!yielded || sameState(box, selectableMailbox(scope, mailboxId))) {
      cache.set(box, sums);
      return status(box, sums);
    }
  }
  const box = selectableMailbox(scope, mailboxId);
  const sums = oneStatement(scope, box);
  cache.set(box, sums);
  return status(box, sums);
}

/**
 * The sums of `box` from its kept entry and what was written since the entry's row: the rows whose
 * modseq grew (flag changes and new messages — every write raises the row's modseq to the
 * mailbox's new HIGHESTMODSEQ) and the expunged log's UIDs (every removal is logged there: EXPUNGE,
 * MOVE, RENAME of INBOX, an undone COPY). A count of the rows checks the result, as the SELECT
 * snapshot's catch-up does (snapshot-cache.ts); undefined — count afresh — when the log was pruned
 * past the entry, the mailbox's state went backwards (another mailbox under the same id), too much
 * changed to be worth it, or the pieces do not add up. The entry is updated in place.
 */
function catchUp(scope: UserScope, box: MailboxRow, entry: Kept): Sums | undefined {
  const { sql, statusSums } = scope.ctx;
  const each = entry.each!;
  const since = entry.box.highest_modseq;
  const pruned = (box as MailboxRow & { expunged_pruned_modseq?: number }).expunged_pruned_modseq ?? 0;
  if (pruned > since || box.highest_modseq < since || box.uid_next < entry.box.uid_next) return undefined;
  const changed = sql
    .get('SELECT uid, size, flags FROM messages INDEXED BY messages_by_modseq WHERE mailbox_id = ? AND modseq > ?')
    .raw()
    .all(box.id, since) as Array<[number, number, string]>;
  if (changed.length > each.size / 2 + 64) return undefined;
  const gone = sql.get('SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ?').pluck().all(box.id, since) as number[];
  const sums = { ...entry.sums };
  const take = (uid: number): void => {
    const was = each.get(uid);
    if (was === undefined) return;
    sums.messages--;
    sums.size -= Math.floor(was / 2);
    sums.unseen -= was % 2;
    each.delete(uid);
  };
  for (const uid of gone) take(uid);
  for (const [uid, size, flags] of changed) {
    take(uid);
    const now = part(size, flags);
    each.set(uid, now);
    sums.messages++;
    sums.size += size;
    sums.unseen += now % 2;
  }
  const count = sql.get('SELECT count(*) FROM messages WHERE mailbox_id = ?').pluck().get(box.id) as number;
  if (count !== sums.messages || count !== each.size) {
    statusSums.drop(box.id);
    return undefined;
  }
  sums.recent = sql.get('SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid >= ?').pluck().get(box.id, box.recent_uid) as number;
  statusSums.set(box, sums, each);
  return sums;
}

/** The sums of a small mailbox from its rows, keeping each message's part for catchUp (one statement). */
function countEach(scope: UserScope, box: MailboxRow): Sums {
  const rows = scope.ctx.sql.get('SELECT uid, size, flags FROM messages WHERE mailbox_id = ?').raw().all(box.id) as Array<[number, number, string]>;
  const each = new Map<number, number>();
  const sums: Sums = { messages: rows.length, size: 0, unseen: 0, recent: 0 };
  for (const [uid, size, flags] of rows) {
    const p = part(size, flags);
    each.set(uid, p);
    sums.size += size;
    sums.unseen += p % 2;
    if (uid >= box.recent_uid) sums.recent++;
  }
  scope.ctx.statusSums.set(box, sums, rows.length <= EACH_MAX ? each : undefined);
  return sums;
}

async function pagedSums(scope: UserScope, box: MailboxRow, slice: TimeSlice): Promise<{ sums: Sums; yielded: boolean }> {
  const stmt = scope.ctx.sql.get(
    `SELECT ${COUNTS}, max(uid) AS last
       FROM (SELECT uid, size, flags FROM messages WHERE mailbox_id = ? AND uid > ? ORDER BY uid LIMIT ?)`,
  );
  const sums: Sums = { messages: 0, size: 0, unseen: 0, recent: 0 };
  let yielded = false;
  let after = 0;
  let page = FIRST_PAGE;
  for (;;) {
    const started = performance.now();
    const row = stmt.get(box.recent_uid, box.id, after, page) as Sums & { last: number | null };
    const took = performance.now() - started;
    sums.messages += row.messages;
    sums.size += row.size;
    sums.unseen += row.unseen;
    sums.recent += row.recent;
    if (row.messages < page || row.last === null) return { sums, yielded };
    after = row.last;
    // Aim the next page at half a slice of SQL time.
    const aim = DEFAULT_SLICE_MS / 2;
    page = Math.max(MIN_PAGE, Math.min(MAX_PAGE, Math.round(took > 0 ? (page * aim) / took : page * 2)));
    if (slice.due) {
      await slice.yieldNow();
      yielded = true;
    }
  }
}

function oneStatement(scope: UserScope, box: MailboxRow): Sums {
  return scope.ctx.sql.get(`SELECT ${COUNTS} FROM messages WHERE mailbox_id = ?`).get(box.recent_uid, box.id) as Sums;
}

function sameState(a: MailboxRow, b: MailboxRow): boolean {
  return a.uid_validity === b.uid_validity && a.uid_next === b.uid_next && a.highest_modseq === b.highest_modseq && a.recent_uid === b.recent_uid;
}

function status(box: MailboxRow, sums: Sums): MailboxStatus {
  return {
    messages: sums.messages,
    unseen: sums.unseen,
    uidNext: box.uid_next,
    uidValidity: box.uid_validity,
    highestModseq: box.highest_modseq,
    size: sums.size,
    recent: sums.recent,
  };
}
