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
import { takeRecent, trimOldest } from '../../util/recent-map.js';

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
 * The last sums of recently counted mailboxes, each with the mailbox row it was counted at. By the
 * rule above, a mailbox whose row is unchanged still holds the same messages with the same flags,
 * so its sums are still true: a client polling STATUS on its folders (most of them unchanged since
 * the last poll), LIST-STATUS and NOTIFY's STATUS cost one read of the mailbox row instead of a
 * scan of its messages (≈ 70 µs for 400 messages, ms for 100,000). Only this process writes the
 * database (it holds the exclusive lock), so no row moves unseen; a restart starts empty.
 */
export class StatusSums {
  private readonly kept = new Map<number, { box: MailboxRow; sums: Sums }>();

  get(box: MailboxRow): Sums | undefined {
    const entry = takeRecent(this.kept, box.id);
    if (!entry) return undefined;
    if (entry.box.name !== box.name || !sameState(entry.box, box)) {
      this.kept.delete(box.id);
      return undefined;
    }
    return entry.sums;
  }

  set(box: MailboxRow, sums: Sums): void {
    this.kept.delete(box.id);
    this.kept.set(box.id, { box, sums });
    trimOldest(this.kept, MAX_KEPT);
  }
}

export async function mailboxStatus(scope: UserScope, mailboxId: string): Promise<MailboxStatus> {
  const cache = scope.ctx.statusSums;
  const first = selectableMailbox(scope, mailboxId);
  const kept = cache.get(first);
  if (kept) return status(first, kept);
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
