/**
 * The SEARCH key tree as the session sees it: the store's SearchQuery plus the keys only a session
 * can answer (sequence numbers, the saved result "$", \Recent). `toStoreQuery` (to-query.ts) turns
 * those into UID ranges, so the store never needs to know about sequence numbers or \Recent.
 */
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
  | { type: 'recent'; set: boolean };

/** What RETURN (...) asked for (RFC 4731 ESEARCH, RFC 5182 SAVE). */
export interface ReturnOptions {
  min: boolean;
  max: boolean;
  all: boolean;
  count: boolean;
  save: boolean;
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
