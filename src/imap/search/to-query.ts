/**
 * Session key tree → the store's SearchQuery. Everything only the session knows (sequence numbers,
 * "$", \Recent) becomes UID ranges here; the rest passes through unchanged.
 */
import type { SearchQuery, UidRanges } from '../../store/search-query.js';
import type { SelectedView } from '../commands/types.js';
import type { SearchKey } from './keys.js';

/**
 * Compresses UIDs of the view (ascending) into ranges. Neighbours in the view become one range even
 * when UIDs between them are missing: those UIDs are expunged or not yet reported, and the search
 * result is intersected with the view afterwards, so the wider range is harmless and much shorter.
 */
export function viewRanges(view: SelectedView, uids: readonly number[]): UidRanges {
  const ranges: UidRanges = [];
  let lastSeq = -1;
  for (const uid of uids) {
    const seq = view.seqOf(uid);
    if (seq === undefined) continue;
    const last = ranges[ranges.length - 1];
    if (last && seq === lastSeq + 1) last[1] = uid;
    else ranges.push([uid, uid]);
    lastSeq = seq;
  }
  return ranges;
}

export function toStoreQuery(key: SearchKey, view: SelectedView): SearchQuery {
  switch (key.type) {
    case 'and':
      return { type: 'and', of: key.of.map((k) => toStoreQuery(k, view)) };
    case 'or':
      return { type: 'or', of: [toStoreQuery(key.of[0], view), toStoreQuery(key.of[1], view)] };
    case 'not':
      return { type: 'not', of: toStoreQuery(key.of, view) };
    case 'seqset':
      // view.resolve answers BAD for numbers beyond EXISTS (RFC 3501 §9) and handles "$".
      return { type: 'uid', ranges: viewRanges(view, view.resolve(key.set, false)) };
    case 'uidset':
      return { type: 'uid', ranges: viewRanges(view, view.resolve(key.set, true)) };
    case 'recent': {
      // RECENT/OLD depend on this session (RFC 3501 §2.3.2), so they are answered from the view.
      const uids = view.recentCount() === 0 && key.set ? [] : view.uids().filter((u) => view.isRecent(u) === key.set);
      return { type: 'uid', ranges: viewRanges(view, uids) };
    }
    default:
      return key;
  }
}
