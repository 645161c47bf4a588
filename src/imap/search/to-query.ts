/**
 * Session key tree → the store's SearchQuery. Everything only the session knows (sequence numbers,
 * "$", \Recent) becomes UID ranges here; the rest passes through unchanged.
 */
import type { SearchQuery, UidRanges } from '../../store/search-query.js';
import type { SelectedView } from '../commands/types.js';
import { resolveRanges, type SequenceSet } from '../wire/sequence-set.js';
import type { SearchKey } from './keys.js';
import { emailIdOfUnrelatedThread } from '../../store/object-ids.js';

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

/**
 * The UIDs of the messages a sequence set names in a search. Numbers beyond the mailbox name no
 * message, and "*" in an empty mailbox names none: the search answers OK with what is left, as
 * Dovecot and Cyrus do — a client whose view raced with an expunge must not get BAD (FETCH and
 * STORE still refuse such numbers, RFC 3501 §9).
 */
function searchSeqs(view: SelectedView, set: SequenceSet): number[] {
  if (set.saved) return view.resolve(set, false);
  const uids = view.uids();
  const out: number[] = [];
  for (const [a, b] of resolveRanges(set.ranges, uids.length)) {
    for (let s = Math.max(a, 1); s <= Math.min(b, uids.length); s++) out.push(uids[s - 1]!);
  }
  return out;
}

/** What the keys answered outside the store need: see storeQuery() in execute.ts. */
export interface SessionAnswers {
  /** RFC 8474 THREADID → the UIDs of the mailbox in that thread. */
  threads?: ReadonlyMap<string, readonly number[]>;
  /** UIDs of messages with neither Message-ID nor references: their THREADID comes from their EMAILID. */
  unrelated?: readonly number[];
  /** RFC 8514: the store keeps save dates. */
  saveDates?: boolean;
}

export function toStoreQuery(key: SearchKey, view: SelectedView, now: number = Date.now(), answers: SessionAnswers = {}): SearchQuery {
  switch (key.type) {
    case 'and':
      return { type: 'and', of: key.of.map((k) => toStoreQuery(k, view, now, answers)) };
    case 'or':
      return { type: 'or', of: [toStoreQuery(key.of[0], view, now, answers), toStoreQuery(key.of[1], view, now, answers)] };
    case 'not':
      return { type: 'not', of: toStoreQuery(key.of, view, now, answers) };
    case 'threadid': {
      const members: SearchQuery = { type: 'uid', ranges: viewRanges(view, answers.threads?.get(key.id) ?? []) };
      const emailId = emailIdOfUnrelatedThread(key.id);
      if (!emailId || !answers.unrelated?.length) return members;
      const alone: SearchQuery = { type: 'and', of: [{ type: 'emailid', id: emailId }, { type: 'uid', ranges: viewRanges(view, answers.unrelated) }] };
      return { type: 'or', of: [members, alone] };
    }
    case 'savedatesupported':
      return answers.saveDates ? { type: 'all' } : { type: 'not', of: { type: 'all' } };
    case 'within':
      // RFC 5032 §2: OLDER matches dates at or before now - interval, YOUNGER at or after it.
      return { type: 'arrival', op: key.op === 'older' ? 'until' : 'from', time: now - key.seconds * 1000 };
    case 'seqset':
      return { type: 'uid', ranges: viewRanges(view, searchSeqs(view, key.set)) };
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
