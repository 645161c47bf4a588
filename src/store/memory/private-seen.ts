/**
 * Per-user \Seen of shared mailboxes in the memory store (UserMailbox.privateSeen/setPrivateSeen,
 * docs/sharing.md): each mailbox keeps, per viewer other than the owner, a map uid → state. A row
 * goes with its message (removeMessages, clearMessages) and with the mailbox object.
 */
import { StoreError } from '../errors.js';
import { viewerFlags } from '../sharing/private-seen.js';
import type { FlagChange, FlagUpdateResult, PrivateSeen } from '../types.js';
import { publish, type HandleContext } from './context.js';
import { findMessage, sortedUnique, type MailboxState } from './state.js';
import { selectable, writable } from './messages.js';

export interface PrivateSeenRow {
  seen: boolean;
  modseq: number;
}

function checkViewer(ctx: HandleContext, viewer: string): void {
  if (viewer === ctx.state.user) throw new StoreError('cannot', "the owner's \\Seen is kept in the message's flags");
}

export function privateSeen(ctx: HandleContext, mailboxId: string, viewer: string): PrivateSeen[] {
  const box = selectable(ctx, mailboxId);
  const rows = box.privateSeen?.get(viewer);
  if (!rows) return [];
  const out: PrivateSeen[] = [];
  for (const [uid, row] of rows) if (findMessage(box, uid)) out.push({ uid, seen: row.seen, modseq: row.modseq });
  return out.sort((a, b) => a.uid - b.uid);
}

export function setPrivateSeen(
  ctx: HandleContext,
  mailboxId: string,
  viewer: string,
  uids: number[],
  seen: boolean,
  unchangedSince?: number,
): FlagUpdateResult {
  checkViewer(ctx, viewer);
  const box = writable(ctx, mailboxId);
  const rows = rowsOf(box, viewer);
  const changed: FlagChange[] = [];
  const conflicts: number[] = [];
  // One modseq for the whole call, as one STORE (RFC 7162 §3.1.3 allows it), taken only on a change.
  let modseq = 0;
  for (const uid of sortedUnique(uids)) {
    const message = findMessage(box, uid);
    if (!message) continue;
    const row = rows.get(uid);
    if (unchangedSince !== undefined && Math.max(message.modseq, row?.modseq ?? 0) > unchangedSince) {
      conflicts.push(uid);
      continue;
    }
    if ((row?.seen ?? false) === seen) continue;
    if (modseq === 0) modseq = ++box.highestModseq;
    rows.set(uid, { seen, modseq });
    changed.push({ uid, flags: viewerFlags(message.flags, seen), modseq });
  }
  if (changed.length > 0) publish(ctx, { kind: 'flags', mailboxId: box.id, changes: changed.map((c) => ({ ...c, flags: [...c.flags] })), viewer });
  return { changed, conflicts };
}

function rowsOf(box: MailboxState, viewer: string): Map<number, PrivateSeenRow> {
  box.privateSeen ??= new Map();
  let rows = box.privateSeen.get(viewer);
  if (!rows) box.privateSeen.set(viewer, (rows = new Map()));
  return rows;
}

/** The rows of messages that leave the mailbox go with them. */
export function forgetPrivateSeen(box: MailboxState, uids: Iterable<number> | 'all'): void {
  if (!box.privateSeen) return;
  if (uids === 'all') {
    delete box.privateSeen;
    return;
  }
  const gone = [...uids];
  for (const rows of box.privateSeen.values()) for (const uid of gone) rows.delete(uid);
}
