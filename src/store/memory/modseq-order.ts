/**
 * The memory store's answer to UserMailbox.changedSince: each mailbox keeps a log of (modseq, uid)
 * in the order changes were made. Every change takes the next modseq of its mailbox, so the log is
 * sorted by modseq as it grows and a binary search finds the changes after any point; an entry is
 * stale once its message changed again or went, and the log is rebuilt when stale entries
 * outnumber the live ones — so a resync after a few changes costs those few, not the mailbox.
 */
import type { MessageMeta } from '../types.js';
import { indexOfUid } from '../uid-index.js';
import type { MailboxState, StoredMessage } from './state.js';

export interface ModseqEntry {
  modseq: number;
  uid: number;
}

/** Records that `message` (already in `box`) took a new modseq; call after every such change. */
export function noteModseq(box: MailboxState, message: StoredMessage): void {
  box.byModseq.push({ modseq: message.modseq, uid: message.uid });
  // Bounded: at most twice the live messages plus some slack, rebuilt in one step.
  if (box.byModseq.length > 2 * box.messages.length + 1024) rebuild(box);
}

function rebuild(box: MailboxState): void {
  box.byModseq = box.messages.map((m) => ({ modseq: m.modseq, uid: m.uid })).sort((a, b) => a.modseq - b.modseq);
}

/** Messages of `box` whose modseq is above `since`, ascending by UID, with copies of their flags. */
export function changedSince(box: MailboxState, since: number): MessageMeta[] {
  const log = box.byModseq;
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.modseq <= since) lo = mid + 1;
    else hi = mid;
  }
  const out: MessageMeta[] = [];
  for (let i = lo; i < log.length; i++) {
    const { uid, modseq } = log[i]!;
    const at = indexOfUid(box.messages, uid);
    const message = at < 0 ? undefined : box.messages[at]!;
    // Stale: changed again later (that later entry counts) or expunged.
    if (message?.modseq === modseq) out.push({ uid, flags: [...message.flags], modseq });
  }
  return out.sort((a, b) => a.uid - b.uid);
}
