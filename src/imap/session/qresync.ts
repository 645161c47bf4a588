/**
 * QRESYNC (RFC 7162 §3.2): which of the UIDs a client knows have vanished since a mod-sequence,
 * for SELECT/EXAMINE (QRESYNC …) and UID FETCH … (CHANGEDSINCE m VANISHED), and the text of
 * VANISHED responses.
 *
 * The store's expunged-UID log (UserMailbox.expungedSince, src/store/expunged.ts) gives the exact
 * answer; when it has pruned entries from before the client's mod-sequence, or the store keeps no
 * log, the answer is every UID the client may know that is not in the mailbox (§3.2.6: "as if it
 * was requested to report all expunged messages from the provided UID set") — larger, never wrong.
 * A UID still in the session's view is never reported: its expunge, if any, reaches the client
 * through the change feed as an ordinary VANISHED.
 */
import type { UserMailbox } from '../../store/types.js';
import type { SelectedView } from '../commands/types.js';

/** Inclusive UID ranges, ascending and disjoint. */
export type UidRanges = ReadonlyArray<readonly [number, number]>;

/** Ranges per VANISHED response: a long answer goes out in several lines (RFC 7162 allows it). */
const RANGES_PER_LINE = 2000;

export function inRanges(ranges: UidRanges, uid: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = ranges[mid]!;
    if (uid < a) hi = mid - 1;
    else if (uid > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Ascending UIDs as merged ranges. */
export function toRanges(uids: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const uid of uids) {
    const last = out[out.length - 1];
    if (last && uid === last[1] + 1) last[1] = uid;
    else if (!last || uid > last[1]) out.push([uid, uid]);
  }
  return out;
}

/**
 * The vanished UIDs among `known` (clipped to `from`…UIDNEXT−1), as ranges: expunged after `since`
 * by the store's log, or — without an exact log — every such UID not in the view.
 */
export async function vanishedSince(
  mail: UserMailbox,
  view: SelectedView,
  since: number,
  known: UidRanges,
  from = 1,
): Promise<Array<[number, number]>> {
  const top = view.uidNext - 1;
  const exact = mail.expungedSince ? await mail.expungedSince(view.mailbox.id, since) : null;
  if (exact) {
    return toRanges(exact.filter((uid) => uid >= from && uid <= top && inRanges(known, uid) && view.seqOf(uid) === undefined));
  }
  // Gaps between the view's UIDs inside each known range.
  const present = view.uids();
  const out: Array<[number, number]> = [];
  for (const [ra, rb] of known) {
    const a = Math.max(ra, from);
    const b = Math.min(rb, top);
    if (a > b) continue;
    let i = lowerBound(present, a);
    let next = a;
    while (next <= b) {
      const p = i < present.length ? present[i]! : Infinity;
      if (p > b) {
        out.push([next, b]);
        break;
      }
      if (p > next) out.push([next, p - 1]);
      next = p + 1;
      i++;
    }
  }
  return out;
}

function lowerBound(list: readonly number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `* VANISHED [(EARLIER) ]set` lines (CRLF-terminated) for the ranges; empty when there are none. */
export function vanishedLines(ranges: UidRanges, earlier: boolean): string {
  let text = '';
  for (let i = 0; i < ranges.length; i += RANGES_PER_LINE) {
    const set = ranges
      .slice(i, i + RANGES_PER_LINE)
      .map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`))
      .join(',');
    text += `* VANISHED ${earlier ? '(EARLIER) ' : ''}${set}\r\n`;
  }
  return text;
}

/**
 * RFC 7162 §3.2.5.2 message sequence match data: pairs (sequence number, UID) the client believes;
 * while they match the view, the client knows every expunge up to that UID, so reporting starts
 * after the last matching one.
 */
export function firstUnknownUid(view: SelectedView, seqs: readonly number[], uids: readonly number[]): number {
  let from = 1;
  for (let i = 0; i < Math.min(seqs.length, uids.length); i++) {
    const seq = seqs[i]!;
    if (seq < 1 || seq > view.exists || view.uidAt(seq) !== uids[i]) break;
    from = uids[i]! + 1;
  }
  return from;
}
