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
    has: (k) => ctx.sql.get("SELECT 1 FROM messages WHERE mailbox_id = ? AND instr(' ' || lower(flags) || ' ', ' ' || ? || ' ') > 0 LIMIT 1").pluck().get(mailboxId, k) !== undefined,
    all: () => keywordsOfFlagStrings(ctx.sql.get('SELECT DISTINCT flags FROM messages WHERE mailbox_id = ?').pluck().all(mailboxId) as string[]),
  };
}

/** APPEND, COPY and MOVE bring `flags` into the mailbox: counted in the transaction that writes them. */
export function checkIncomingKeywords(ctx: StoreContext, mailboxId: number, flags: readonly Flag[], maxKeywords: number | undefined): void {
  if (maxKeywords === undefined) return;
  checkKeywordLimitSync('add', flags, maxKeywords, keywordLookup(ctx, mailboxId));
}
