/**
 * A plain LIST's answer, as bytes, kept while the store hands out the very same mailbox entries.
 *
 * A client sends the same `LIST "" "*"` at every sync (imaptest's mix and the persistent-1 bench at
 * the start of every round), and the answer only changes when the user's tree does. The SQLite
 * store already keeps each user's list until the tree changes (store/sqlite/mailbox-lists.ts) and
 * hands out the same frozen MailboxInfo objects every time; what was left of a LIST was building
 * the tree, matching, sorting and encoding two or three lines again — work that, measured under the
 * bench's mix, ran several times slower in the LIST that follows an EXPUNGE (the session slept
 * through the EXPUNGE's fdatasync and woke with cold caches; bench/RESULTS.md, "LIST p99 after the
 * list cache"), which is where most LISTs of that mix are.
 *
 * Nothing here knows the store: the memo is keyed by the identity of the entries the store
 * returned. A frozen MailboxInfo cannot change (all its fields are primitives), so the same frozen
 * objects in the same order describe the same tree, and a store that builds new objects on every
 * call (or does not freeze them) simply never hits. The memo hangs off the list's first entry in a
 * WeakMap: once the store drops that list (the tree changed, or its cache let it go) the entry is
 * garbage and so is the memo — no bound of its own, no invalidation to get wrong, shared by every
 * session of the user. One answer per list: the last pattern/mode asked for, of at most
 * DRAIN_EVERY (256) lines (list.ts), so the memos together hold about what the kept lists hold
 * (the store's mailboxListCacheEntries bounds those), the names once more as bytes.
 */
import type { MailboxInfo } from '../../store/types.js';

interface Kept {
  /** What else the answer depends on: reference, patterns, LIST mode, UTF-8 names. */
  key: string;
  mailboxes: readonly MailboxInfo[];
  bytes: Buffer;
}

const kept = new WeakMap<MailboxInfo, Kept>();

/** The answer kept for exactly these entries (same objects, same order) and `key`, if any. */
export function keptListAnswer(mailboxes: readonly MailboxInfo[], key: string): Buffer | undefined {
  const first = mailboxes[0];
  if (first === undefined) return undefined;
  const memo = kept.get(first);
  if (memo === undefined || memo.key !== key || memo.mailboxes.length !== mailboxes.length) return undefined;
  for (let i = 1; i < mailboxes.length; i++) if (memo.mailboxes[i] !== mailboxes[i]) return undefined;
  return memo.bytes;
}

/** Keeps `bytes` as the answer for these entries and `key` — only when every entry is frozen. */
export function keepListAnswer(mailboxes: readonly MailboxInfo[], key: string, bytes: Buffer): void {
  const first = mailboxes[0];
  if (first === undefined) return;
  for (const m of mailboxes) if (!Object.isFrozen(m)) return;
  kept.set(first, { key, mailboxes: mailboxes.slice(), bytes });
}
