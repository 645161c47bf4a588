/**
 * maxKeywordsPerMailbox inside a store's write (issue 13): the IMAP layer checks before the write
 * too, but two sessions adding new keywords to one mailbox at the same moment could both pass
 * that. Each store calls this inside the transaction (or synchronous step) that changes the flags,
 * with the two questions answered from its own tables, so the count and the write are one step.
 * Asking first whether each keyword is in the mailbox at all keeps the common case — a keyword
 * already in use — to a lookup that stops at the first message having it; only a keyword new to
 * the mailbox costs a read of its distinct flag strings.
 */
import { StoreError } from './errors.js';
import type { Flag, FlagOperation } from './types.js';

export interface KeywordLookup {
  /** Whether some message of the mailbox has this keyword (given lower-cased). */
  has(keyword: string): boolean | Promise<boolean>;
  /** Every keyword of the mailbox, lower-cased. */
  all(): Iterable<string> | Promise<Iterable<string>>;
}

export async function checkKeywordLimit(operation: FlagOperation, flags: readonly Flag[], max: number | undefined, lookup: KeywordLookup): Promise<void> {
  const keys = wantedKeywords(operation, flags, max);
  if (keys.length === 0) return;
  const missing: string[] = [];
  for (const k of keys) if (!(await lookup.has(k))) missing.push(k);
  if (missing.length === 0) return;
  overLimit(new Set([...(await lookup.all()), ...missing]).size, max!);
}

/** The same for a store whose lookups are synchronous (it must not yield between count and write). */
export function checkKeywordLimitSync(
  operation: FlagOperation,
  flags: readonly Flag[],
  max: number | undefined,
  lookup: { has(keyword: string): boolean; all(): Iterable<string> },
): void {
  const keys = wantedKeywords(operation, flags, max);
  if (keys.length === 0) return;
  const missing = keys.filter((k) => !lookup.has(k));
  if (missing.length === 0) return;
  overLimit(new Set([...lookup.all(), ...missing]).size, max!);
}

function wantedKeywords(operation: FlagOperation, flags: readonly Flag[], max: number | undefined): string[] {
  if (max === undefined || operation === 'remove') return [];
  return [...new Set(flags.filter((f) => !f.startsWith('\\')).map((f) => f.toLowerCase()))];
}

function overLimit(size: number, max: number): void {
  if (size > max) throw new StoreError('limit', `Too many keywords in this mailbox (limit ${max})`);
}

/** The keywords (lower-cased) in space-separated flag strings, as the SQL stores keep them. */
export function keywordsOfFlagStrings(stored: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const s of stored) for (const f of s.split(' ')) if (f !== '' && !f.startsWith('\\')) out.add(f.toLowerCase());
  return out;
}
