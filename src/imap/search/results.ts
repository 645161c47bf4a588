/**
 * The answers to SEARCH: the classic `* SEARCH n...` (RFC 3501 §7.2.5, with RFC 7162 §3.1.6 MODSEQ)
 * and the RFC 4731 `* ESEARCH` for RETURN (...), including what RFC 5182 SAVE keeps in "$".
 */
import { atom, type ImapValue } from '../wire/types.js';
import type { PartialRange, ReturnOptions } from './keys.js';

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

/** Numbers written between looks at the clock (the *InSlices functions below). */
const STEP = 8_192;

/** Yields to the event loop when the command's time slice is used up (TimeSlice.pause). */
export type Pause = () => Promise<void>;

/**
 * `numbers` joined by single spaces, as `numbers.join(' ')` gives, made STEP numbers at a time
 * with `pause` between: the answer of a SEARCH or SORT over 100,000 messages is 100,000 numbers
 * turned into text, one stretch of 4–10 ms of CPU as one join (issue 13: no command may hold the
 * event loop for more than a few milliseconds). Each step's join is a flat string, and joining the
 * few of them at the end is one copy, so the whole costs no more than the one join did.
 */
export async function numberListInSlices(numbers: ArrayLike<number>, pause: Pause): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; i += STEP) {
    const end = Math.min(numbers.length, i + STEP);
    const step = new Array<number>(end - i);
    for (let k = i; k < end; k++) step[k - i] = numbers[k]!;
    parts.push(step.join(' '));
    await pause();
  }
  return parts.join(' ');
}

/** searchResponse() with the numbers written in steps (numberListInSlices). */
export async function searchResponseInSlices(found: Found, byUid: boolean, modseq: number | undefined, pause: Pause): Promise<ImapValue[]> {
  const numbers = byUid ? found.uids : found.seqs;
  const values: ImapValue[] = [atom(numbers.length > 0 ? `SEARCH ${await numberListInSlices(numbers, pause)}` : 'SEARCH')];
  if (modseq !== undefined && numbers.length > 0) values.push([atom('MODSEQ'), modseq]);
  return values;
}

/**
 * A list of numbers in the order given, as sequence-set text: ascending runs become ranges, the
 * order is otherwise kept ("23765,23764,23763", RFC 5267 §3.2; "1:3,7" for a sorted list).
 */
export function formatOrderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * formatOrderedSet() letting the event loop run between steps of about STEP numbers (`pause`):
 * the ALL of a SORT ... RETURN (ALL) over 100,000 messages is as long as a SEARCH's answer. The
 * same text: the ranges are the same, only written a step at a time.
 */
export async function formatOrderedSetInSlices(numbers: readonly number[], pause: Pause): Promise<string> {
  const chunks: string[] = [];
  let parts: string[] = [];
  let looked = 0;
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    looked += j - i + 1;
    i = j + 1;
    if (looked >= STEP) {
      chunks.push(parts.join(','));
      parts = [];
      looked = 0;
      await pause();
    }
  }
  if (parts.length > 0) chunks.push(parts.join(','));
  return chunks.join(',');
}

/** The results a PARTIAL range selects (RFC 9394 §3.1: the first is 1, -1 is the last). */
export function partialWindow<T>(list: readonly T[], range: PartialRange): T[] {
  if (!range.fromEnd) return list.slice(range.from - 1, range.to);
  return list.slice(Math.max(list.length - range.to, 0), Math.max(list.length - range.from + 1, 0));
}

/** UIDs whose mod-sequence the MODSEQ result reports (RFC 4731 §3.2). */
export function modseqSubject(found: Found, opts: ReturnOptions | undefined): number[] {
  if (found.uids.length === 0) return [];
  if (opts?.partial && !opts.all && !opts.count && !opts.min && !opts.max) return partialWindow(found.uids, opts.partial);
  if (!opts || opts.all || opts.count || (!opts.min && !opts.max)) return found.uids;
  const out: number[] = [];
  if (opts.min) out.push(found.uids[0]!);
  if (opts.max && (!opts.min || found.uids.length > 1)) out.push(found.uids[found.uids.length - 1]!);
  return out;
}

/**
 * RFC 5182 §2.4: with only MIN and/or MAX, "$" keeps just those; with only PARTIAL, the window
 * (what was returned, as with MIN/MAX); otherwise every match.
 */
export function savedUids(found: Found, opts: ReturnOptions): number[] {
  if (opts.all || opts.count) return found.uids;
  if (opts.partial && !opts.min && !opts.max) return partialWindow(found.uids, opts.partial);
  if (!opts.min && !opts.max) return found.uids;
  return modseqSubject(found, opts);
}

/** True when RETURN asked for something to be sent (SAVE, CONTEXT or UPDATE alone send none). */
export function wantsEsearch(opts: ReturnOptions): boolean {
  return opts.min || opts.max || opts.all || opts.count || opts.partial !== undefined;
}

/**
 * `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [PARTIAL (range set)] [MODSEQ n]`
 * (RFC 4731 §3.1, RFC 9394 §3.1). `numbers` are the results in the requested order: mailbox order
 * for SEARCH, the sort order for SORT (RFC 5267 §3.1: MIN and MAX are the first and last sorted).
 */
export function esearchResponse(tag: string, numbers: readonly number[], byUid: boolean, opts: ReturnOptions, modseq: number | undefined): ImapValue[] {
  return esearchValues(tag, numbers, byUid, opts, modseq, opts.all && numbers.length > 0 ? formatOrderedSet(numbers) : '');
}

/** esearchResponse() with the ALL set written in steps (formatOrderedSetInSlices). */
export async function esearchResponseInSlices(
  tag: string,
  numbers: readonly number[],
  byUid: boolean,
  opts: ReturnOptions,
  modseq: number | undefined,
  pause: Pause,
): Promise<ImapValue[]> {
  const all = opts.all && numbers.length > 0 ? await formatOrderedSetInSlices(numbers, pause) : '';
  return esearchValues(tag, numbers, byUid, opts, modseq, all);
}

/** The ESEARCH values, with the ALL set's text already made (`all`: '' when not asked or empty). */
function esearchValues(tag: string, numbers: readonly number[], byUid: boolean, opts: ReturnOptions, modseq: number | undefined, all: string): ImapValue[] {
  const values: ImapValue[] = [atom('ESEARCH'), [atom('TAG'), tag]];
  if (byUid) values.push(atom('UID'));
  if (numbers.length > 0) {
    if (opts.min) values.push(atom('MIN'), numbers[0]!);
    if (opts.max) values.push(atom('MAX'), numbers[numbers.length - 1]!);
  }
  if (opts.count) values.push(atom('COUNT'), numbers.length);
  if (opts.all && numbers.length > 0) values.push(atom('ALL'), atom(all));
  if (opts.partial) {
    // RFC 9394 §3.1: the requested range, then the results in it, or NIL when there are none.
    const window = partialWindow(numbers, opts.partial);
    values.push(atom('PARTIAL'), [atom(opts.partial.text), window.length > 0 ? atom(formatOrderedSet(window)) : null]);
  }
  if (modseq !== undefined && numbers.length > 0) values.push(atom('MODSEQ'), modseq);
  return values;
}
