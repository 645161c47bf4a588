/**
 * Per-user \Seen in another user's mailbox (docs/sharing.md), as the shared view presents it: the
 * owner's \Seen is in the message's flags; every other user's is a row kept by the owner's store
 * (UserMailbox.privateSeen / setPrivateSeen). A user sees a message with the owner's flags minus
 * \Seen, plus their own \Seen, and with the greater of the message's modseq and their row's.
 * These helpers are pure: no store, no I/O.
 */
import type { MessageMeta, PrivateSeen } from '../types.js';
import type { SearchQuery, UidRanges } from '../search-query.js';

export function isSeenFlag(flag: string): boolean {
  return flag.toLowerCase() === '\\seen';
}

/** The viewer's flags of a message: the owner's without \Seen, plus the viewer's own. */
export function viewerFlags(ownerFlags: readonly string[], seen: boolean): string[] {
  const rest = ownerFlags.filter((f) => !isSeenFlag(f));
  return seen ? ['\\Seen', ...rest] : rest;
}

export type SeenRows = ReadonlyMap<number, PrivateSeen>;

export function seenRows(rows: readonly PrivateSeen[]): Map<number, PrivateSeen> {
  return new Map(rows.map((r) => [r.uid, r]));
}

/** A message (meta or record) as the viewer sees it. */
export function asViewer<T extends MessageMeta>(m: T, rows: SeenRows): T {
  const row = rows.get(m.uid);
  return { ...m, flags: viewerFlags(m.flags, row?.seen ?? false), modseq: Math.max(m.modseq, row?.modseq ?? 0) };
}

/** Ascending UIDs as inclusive ranges. */
export function toRanges(uids: readonly number[]): UidRanges {
  const out: UidRanges = [];
  for (const uid of uids) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === uid) last[1] = uid;
    else out.push([uid, uid]);
  }
  return out;
}

/** True when the query asks about \Seen or MODSEQ, which the viewer's rows change. */
export function needsViewerRows(q: SearchQuery): boolean {
  switch (q.type) {
    case 'flag':
      return isSeenFlag(q.flag);
    case 'modseq':
      return true;
    case 'and':
    case 'or':
      return q.of.some(needsViewerRows);
    case 'not':
      return needsViewerRows(q.of);
    default:
      return false;
  }
}

/**
 * The query the owner's store should run for the viewer: SEEN/UNSEEN become the viewer's seen UIDs
 * (or the others), and MODSEQ n also matches the messages whose row changed at n or later (the
 * viewer's modseq is the greater of the two, RFC 7162 §3.1.5).
 */
export function queryForViewer(q: SearchQuery, rows: readonly PrivateSeen[]): SearchQuery {
  const seen = toRanges(rows.filter((r) => r.seen).map((r) => r.uid));
  const walk = (node: SearchQuery): SearchQuery => {
    switch (node.type) {
      case 'flag':
        if (!isSeenFlag(node.flag)) return node;
        return node.set ? { type: 'uid', ranges: seen } : { type: 'not', of: { type: 'uid', ranges: seen } };
      case 'modseq':
        return { type: 'or', of: [node, { type: 'uid', ranges: toRanges(rows.filter((r) => r.modseq >= node.min).map((r) => r.uid)) }] };
      case 'and':
        return { type: 'and', of: node.of.map(walk) };
      case 'or':
        return { type: 'or', of: [walk(node.of[0]), walk(node.of[1])] };
      case 'not':
        return { type: 'not', of: walk(node.of) };
      default:
        return node;
    }
  };
  return walk(q);
}
