/**
 * maxKeywordsPerMailbox inside SQLite's writes (src/store/keyword-limit.ts): the keyword questions
 * answered from the mailbox's rows, inside the caller's transaction, so counting and writing are one step.
 */
import { checkKeywordLimitSync, keywordsOfFlagStrings } from '../keyword-limit.js';
import type { Flag } from '../types.js';
import type { StoreContext } from './context.js';

/** Keyword questions for keyword-limit.ts, answered from the mailbox's rows (inside the caller's transaction). */
export function keywordLookup(ctx: StoreContext, mailboxId: number): { has(keyword: string): boolean; all(): Iterable<string> } {
  return {
    // Newest first (the primary key walked backwards, no sort): a keyword in use is nearly always
    // on the latest messages — the APPENDs and deliveries that bring it — while the oldest may
    // predate it, and walking from UID 1 read the whole mailbox for each (+180 µs an APPEND with a
    // keyword at 2,000 messages, bench/append-flag-cost.ts --side imap-keyword --prefill 2000).
    has: (k) =>
      ctx.sql
        .get("SELECT 1 FROM messages WHERE mailbox_id = ? AND instr(' ' || lower(flags) || ' ', ' ' || ? || ' ') > 0 ORDER BY uid DESC LIMIT 1")
        .pluck()
        .get(mailboxId, k) !== undefined,
    all: () => keywordsOfFlagStrings(ctx.sql.get('SELECT DISTINCT flags FROM messages WHERE mailbox_id = ?').pluck().all(mailboxId) as string[]),
  };
}

/** APPEND, COPY and MOVE bring `flags` into the mailbox: counted in the transaction that writes them. */
export function checkIncomingKeywords(ctx: StoreContext, mailboxId: number, flags: readonly Flag[], maxKeywords: number | undefined): void {
  if (maxKeywords === undefined) return;
  checkKeywordLimitSync('add', flags, maxKeywords, keywordLookup(ctx, mailboxId));
}
