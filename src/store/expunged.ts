/**
 * Expunged UIDs kept for QRESYNC (RFC 7162 §3.2): each store remembers the UIDs it expunged with
 * the mod-sequence of the expunge, so a client that reconnects with the HIGHESTMODSEQ it last saw
 * is told exactly which of its messages vanished (VANISHED (EARLIER)).
 *
 * Retention: a store keeps at most about `expungedRetention` of these per mailbox (default
 * DEFAULT_EXPUNGED_RETENTION); older ones are pruned and the highest pruned mod-sequence recorded.
 * A client asking from before that mark gets the answer RFC 7162 §3.2.6 requires of a server that
 * no longer remembers: every UID it may know that is no longer in the mailbox (computed by the
 * IMAP layer from its known-uids, or 1:UIDNEXT-1) — larger, but never wrong.
 */

/** Expunged UIDs remembered per mailbox before the oldest are pruned. */
export const DEFAULT_EXPUNGED_RETENTION = 50_000;

/**
 * The oldest rows go once a mailbox holds this much more than the retention, so pruning runs once
 * per many expunges rather than at each one.
 */
export function pruneDue(count: number, retention: number): boolean {
  return count > retention + Math.max(64, Math.floor(retention / 10));
}

/** One mailbox's log, as the memory store keeps it: ascending by modseq. */
export interface ExpungedLog {
  uids: number[];
  modseqs: number[];
  /** Highest modseq of a pruned entry (0: nothing pruned). */
  prunedModseq: number;
}

export function emptyExpungedLog(): ExpungedLog {
  return { uids: [], modseqs: [], prunedModseq: 0 };
}

/** Records UIDs expunged at `modseq` and prunes the oldest beyond `retention`. */
export function recordExpunged(log: ExpungedLog, uids: readonly number[], modseq: number, retention: number): void {
  for (const uid of uids) {
    log.uids.push(uid);
    log.modseqs.push(modseq);
  }
  if (!pruneDue(log.uids.length, retention)) return;
  const drop = log.uids.length - retention;
  log.prunedModseq = Math.max(log.prunedModseq, log.modseqs[drop - 1]!);
  // Entries with the same modseq as the last pruned one go too: an expunge is kept whole or not at all.
  let cut = drop;
  while (cut < log.modseqs.length && log.modseqs[cut] === log.prunedModseq) cut++;
  log.uids = log.uids.slice(cut);
  log.modseqs = log.modseqs.slice(cut);
}

/** UIDs expunged after `since`, ascending; null when some of them may have been pruned. */
export function expungedSince(log: ExpungedLog, since: number): number[] | null {
  if (since < log.prunedModseq) return null;
  const out: number[] = [];
  for (let i = log.modseqs.length - 1; i >= 0 && log.modseqs[i]! > since; i--) out.push(log.uids[i]!);
  return out.sort((a, b) => a - b);
}
