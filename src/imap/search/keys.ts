/**
 * The SEARCH key tree as the session sees it: the store's SearchQuery plus the keys only a session
 * can answer (sequence numbers, the saved result "$", \Recent). `toStoreQuery` (to-query.ts) turns
 * those into UID ranges, so the store never needs to know about sequence numbers or \Recent.
 */
import type { FetchItem } from '../fetch/items.js';
import type { SequenceSet } from '../wire/sequence-set.js';
import type { SearchQuery } from '../../store/search-query.js';

/** Leaves the store understands as they are. */
export type StoreLeaf = Exclude<SearchQuery, { type: 'and' } | { type: 'or' } | { type: 'not' }>;

export type SearchKey =
  | StoreLeaf
  | { type: 'and'; of: SearchKey[] }
  | { type: 'or'; of: [SearchKey, SearchKey] }
  | { type: 'not'; of: SearchKey }
  /** A bare sequence set (message numbers), or "$". */
  | { type: 'seqset'; set: SequenceSet }
  /** UID <set>, or "UID $". */
  | { type: 'uidset'; set: SequenceSet }
  /** RECENT (set: true) / OLD (set: false); NEW is RECENT plus UNSEEN. */
  | { type: 'recent'; set: boolean }
  /** RFC 5032 OLDER / YOUNGER: INTERNALDATE against "now" minus `seconds`, fixed when the command runs. */
  | { type: 'within'; op: 'older' | 'younger'; seconds: number }
  /** RFC 8474 §6 THREADID: answered from the sort keys (to-query.ts), not by the store's search. */
  | { type: 'threadid'; id: string }
  /** RFC 8514 §4.3 SAVEDATESUPPORTED: every message when the store keeps save dates, else none. */
  | { type: 'savedatesupported' };

/**
 * A PARTIAL range (RFC 5267 §4.4, RFC 9394 §3.1): results `from` to `to` (1-based, inclusive,
 * from <= to), counted from the last result backwards when `fromEnd` ("-1:-100").
 */
export interface PartialRange {
  from: number;
  to: number;
  fromEnd: boolean;
  /** The range as the client wrote it, echoed in the PARTIAL response. */
  text: string;
}

/** What RETURN (...) asked for (RFC 4731 ESEARCH, RFC 5182 SAVE, RFC 5267 CONTEXT, RFC 9394 PARTIAL). */
export interface ReturnOptions {
  min: boolean;
  max: boolean;
  all: boolean;
  count: boolean;
  save: boolean;
  /** RFC 5267 §4.2: a hint that the criteria will be used again; accepted, nothing changes. */
  context?: boolean;
  /** RFC 5267 §4.3: keep the result up to date with ADDTO/REMOVEFROM while the mailbox is selected. */
  update?: boolean;
  /**
   * RFC 5465 §7 (with NOTIFY): `UPDATE (fetch-att …)`, the attributes to FETCH for a new message
   * as it joins the result.
   */
  updateFetch?: FetchItem[];
  partial?: PartialRange;
}

export interface SearchArgs {
  /** Upper-cased CHARSET argument, when given. */
  charset?: string;
  /** Present when the client used RETURN (...): the answer is then an ESEARCH response. */
  returnOptions?: ReturnOptions;
  key: SearchKey;
  /** True when the criteria contain MODSEQ (RFC 7162 §3.1.5: the answer then carries a MODSEQ). */
  usesModseq: boolean;
}
