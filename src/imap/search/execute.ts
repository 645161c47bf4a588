/**
 * What SEARCH, SORT and THREAD share once their arguments are parsed: the charset check and
 * finding the matching messages of the session's view.
 */
import type { SelectedView } from '../commands/types.js';
import type { SearchQuery } from '../../store/search-query.js';
import type { SearchOptions, UserMailbox } from '../../store/types.js';
import { ImapError } from '../errors.js';
import { messagesChangedSince } from '../../store/changed-since.js';
import { atom } from '../wire/types.js';
import type { SearchKey } from './keys.js';
import type { Found } from './results.js';
import { toStoreQuery } from './to-query.js';
import { threadIdOf } from '../../store/object-ids.js';
import { sortData } from '../../store/sort/sort-data.js';

/** Charsets whose strings arrive as UTF-8 text (US-ASCII is a subset). */
export const CHARSETS = ['US-ASCII', 'UTF-8'];

/** RFC 3501 §6.4.4, RFC 5256 §3: an unsupported charset is NO [BADCHARSET (supported...)], not BAD. */
export function checkCharset(charset: string | undefined): void {
  if (charset !== undefined && !CHARSETS.includes(charset)) {
    throw ImapError.no(`Charset ${charset.slice(0, 40)} is not supported`, { name: 'BADCHARSET', args: [CHARSETS.map((c) => atom(c))] });
  }
}

/**
 * The store query of a search key; "all" passes through so callers can skip the store. THREADID
 * keys become the UIDs of their thread here (from the sort keys, as FETCH THREADID computes
 * them), once, when the command runs: a CONTEXT=SEARCH UPDATE result does not add later arrivals
 * to a THREADID key (documented in docs/imap.md).
 */
/** What threadIdOf() reads: the store may read them ahead in slices. */
const THREAD_ID_KEYS = ['messageId', 'references'] as const;

export async function storeQuery(key: SearchKey, view: SelectedView, mail: UserMailbox, saveDates: boolean): Promise<SearchQuery> {
  const wanted = new Set<string>();
  collectThreadIds(key, wanted);
  let threads: Map<string, number[]> | undefined;
  const unrelated: number[] = [];
  if (wanted.size > 0) {
    threads = new Map();
    for (const keys of await sortData(mail, view.mailbox.id, view.uids(), THREAD_ID_KEYS)) {
      const id = threadIdOf(keys);
      if (id === null) unrelated.push(keys.uid);
      if (id === null || !wanted.has(id)) continue;
      let uids = threads.get(id);
      if (!uids) threads.set(id, (uids = []));
      uids.push(keys.uid);
    }
  }
  return toStoreQuery(key, view, Date.now(), { ...(threads ? { threads, unrelated } : {}), saveDates });
}

function collectThreadIds(key: SearchKey, out: Set<string>): void {
  if (key.type === 'threadid') out.add(key.id);
  else if (key.type === 'and') for (const k of key.of) collectThreadIds(k, out);
  else if (key.type === 'or') for (const k of key.of) collectThreadIds(k, out);
  else if (key.type === 'not') collectThreadIds(key.of, out);
}

/**
 * The messages of the view that match `query`, ascending. The store also sees messages this
 * session has not been told about yet; they do not count.
 */
export async function findMatches(mail: UserMailbox, view: SelectedView, query: SearchQuery, progress?: Progress, pause?: () => Promise<void>): Promise<Found> {
  const matched = await mail.search(view.mailbox.id, query, progress ? searchProgress(progress, view) : {});
  const found: Found = { uids: [], seqs: [] };
  // Both lists ascending: one walk along the view's UIDs, not a binary search per match (at
  // 100,000 matches that was one stretch of a few milliseconds), in steps with `pause` between.
  const uids = view.uids();
  let j = 0;
  for (let k = 0; k < matched.length; k++) {
    const uid = matched[k]!;
    // A store breaking its ascending promise is still answered right: the walk starts over.
    if (j > 0 && uids[j - 1]! >= uid) j = 0;
    while (j < uids.length && uids[j]! < uid) j++;
    if (uids[j] === uid) {
      found.uids.push(uid);
      found.seqs.push(j + 1);
    }
    if (pause && k % MATCH_STEP === MATCH_STEP - 1) await pause();
  }
  return found;
}

/** Matches mapped to sequence numbers between looks at the clock. */
const MATCH_STEP = 16_384;

/**
 * findMatches for a query that is a MODSEQ criterion alone (RFC 7162 §3.1.5, the CONDSTORE
 * resync's "which changed?"): answered by the store's lookup by modseq instead of a search over
 * every message; `modseqs` receives each match's mod-sequence for the "(MODSEQ n)" result. Null
 * for any other query.
 */
export async function findModseqMatches(mail: UserMailbox, view: SelectedView, query: SearchQuery, modseqs: Map<number, number>): Promise<Found | null> {
  if (query.type !== 'modseq') return null;
  const changed = await messagesChangedSince(mail, view.mailbox.id, query.min - 1);
  const found: Found = { uids: [], seqs: [] };
  for (const meta of changed) {
    const seq = view.seqOf(meta.uid);
    if (seq === undefined) continue;
    found.uids.push(meta.uid);
    found.seqs.push(seq);
    modseqs.set(meta.uid, meta.modseq);
  }
  return found;
}

/**
 * The UIDs findMatches would give, for SORT and THREAD. ALL is answered by the view's own list
 * (not a copy: callers only read it) without a store call; their key lists leave out messages
 * the store no longer has, exactly as the store's search would.
 */
export async function findMatchingUids(mail: UserMailbox, view: SelectedView, query: SearchQuery, progress?: Progress): Promise<readonly number[]> {
  if (query.type === 'all') return view.uids();
  return (await findMatches(mail, view, query, progress)).uids;
}

/** Where a command reports INPROGRESS counts (CommandContext.progress). */
export type Progress = (count: number, total: number) => void;

/**
 * INPROGRESS counts (RFC 9585) for a search of the selected mailbox: the store says how far it
 * got as a UID (SearchOptions.progress), reported as how many of the view's messages that covers,
 * of all of them. A store that searches in one step never calls it: the lines then carry NIL.
 */
function searchProgress(progress: Progress, view: SelectedView): SearchOptions {
  return {
    progress: (throughUid) => {
      const uids = view.uids();
      let lo = 0;
      let hi = uids.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (uids[mid]! <= throughUid) lo = mid + 1;
        else hi = mid;
      }
      progress(lo, uids.length);
    },
  };
}
