/**
 * The answers to SEARCH: the classic `* SEARCH n...` (RFC 3501 §7.2.5, with RFC 7162 §3.1.6 MODSEQ)
 * and the RFC 4731 `* ESEARCH` for RETURN (...), including what RFC 5182 SAVE keeps in "$".
 */
import { atom, type ImapValue } from '../wire/types.js';
import { formatNumberSet } from '../wire/sequence-set.js';
import type { ReturnOptions } from './keys.js';

export interface Found {
  /** Matching UIDs in the view, ascending. */
  uids: number[];
  /** Their sequence numbers, same order. */
  seqs: number[];
}

/**
 * `* SEARCH 2 5 9 [(MODSEQ n)]`: one line even when nothing matched. The numbers travel as one atom:
 * a mailbox can match hundreds of thousands of messages, more values than a spread call accepts.
 */
export function searchResponse(found: Found, byUid: boolean, modseq: number | undefined): ImapValue[] {
  const numbers = byUid ? found.uids : found.seqs;
  const values: ImapValue[] = [atom(numbers.length > 0 ? `SEARCH ${numbers.join(' ')}` : 'SEARCH')];
  if (modseq !== undefined && numbers.length > 0) values.push([atom('MODSEQ'), modseq]);
  return values;
}

/** UIDs whose mod-sequence the MODSEQ result reports (RFC 4731 §3.2). */
export function modseqSubject(found: Found, opts: ReturnOptions | undefined): number[] {
  if (found.uids.length === 0) return [];
  if (!opts || opts.all || opts.count || (!opts.min && !opts.max)) return found.uids;
  const out: number[] = [];
  if (opts.min) out.push(found.uids[0]!);
  if (opts.max && (!opts.min || found.uids.length > 1)) out.push(found.uids[found.uids.length - 1]!);
  return out;
}

/** RFC 5182 §2.4: with only MIN and/or MAX, "$" keeps just those; otherwise every match. */
export function savedUids(found: Found, opts: ReturnOptions): number[] {
  if (opts.all || opts.count || (!opts.min && !opts.max)) return found.uids;
  return modseqSubject(found, opts);
}

/** True when RETURN asked for something to be sent (SAVE alone sends no ESEARCH). */
export function wantsEsearch(opts: ReturnOptions): boolean {
  return opts.min || opts.max || opts.all || opts.count;
}

/** `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]` (RFC 4731 §3.1). */
export function esearchResponse(
  tag: string,
  found: Found,
  byUid: boolean,
  opts: ReturnOptions,
  modseq: number | undefined,
): ImapValue[] {
  const numbers = byUid ? found.uids : found.seqs;
  const values: ImapValue[] = [atom('ESEARCH'), [atom('TAG'), tag]];
  if (byUid) values.push(atom('UID'));
  if (numbers.length > 0) {
    if (opts.min) values.push(atom('MIN'), numbers[0]!);
    if (opts.max) values.push(atom('MAX'), numbers[numbers.length - 1]!);
  }
  if (opts.count) values.push(atom('COUNT'), numbers.length);
  if (opts.all && numbers.length > 0) values.push(atom('ALL'), atom(formatNumberSet(numbers)));
  if (modseq !== undefined && numbers.length > 0) values.push(atom('MODSEQ'), modseq);
  return values;
}
