/**
 * Runs a SearchQuery over many messages without holding the event loop: the same answers as
 * matchesQuery (search-eval.ts, the reference) message by message, but evaluated key by key over a
 * batch of messages, yielding between steps (src/util/time-slice.ts).
 *
 * Message by message, one step would be the whole query on one message — with thousands of BODY
 * keys and a large body, seconds without a chance to yield. Key by key, one step is one key on one
 * message. Batches keep the decoded text of only BATCH messages alive at a time (each message is
 * decoded once per batch, not once per key).
 */
import { TimeSlice } from '../util/time-slice.js';
import { LazyMessage, evaluate, type SearchableMessage, type TextCache, type TextCacheKey } from './search-eval.js';
import type { SearchQuery, UidRanges } from './search-query.js';

export interface SearchTarget extends SearchableMessage {
  /** Identifies the content in the TextCache (shared decoded text). */
  cacheKey?: TextCacheKey;
}

/**
 * Thrown by a target's `raw()` or `structure()` when its message disappeared while the search was
 * yielding (expunged by another session): the message is left out of the result.
 */
export class SearchTargetGone extends Error {
  constructor() {
    super('message expunged during search');
    this.name = 'SearchTargetGone';
  }
}

export interface RunSearchOptions {
  texts?: TextCache;
  /** Shared with the caller's own loop (e.g. paging through a database), so slices add up. */
  slice?: TimeSlice;
  /** Called after each batch with the last UID of it (UserMailbox.search's progress). */
  progress?: (throughUid: number) => void;
}

const BATCH = 64;

/**
 * UIDs of the items matching `query`, in the items' order. Items become targets a batch at a time
 * (`toTarget`), so a large mailbox is not turned into targets in one synchronous stretch.
 */
export async function runSearch<T>(
  query: SearchQuery,
  items: readonly T[],
  toTarget: (item: T) => SearchTarget,
  options: RunSearchOptions = {},
): Promise<number[]> {
  const slice = options.slice ?? new TimeSlice();
  const out: number[] = [];
  const uidRanges = new WeakMap<SearchQuery, UidRanges>();
  for (let from = 0; from < items.length; from += BATCH) {
    const batch = items.slice(from, from + BATCH).map(toTarget);
    const messages = batch.map((t) => new LazyMessage(t, options.texts && t.cacheKey !== undefined ? { texts: options.texts, key: t.cacheKey } : undefined));
    const all = batch.map((_, i) => i);
    const run = new BatchRun(messages, slice, uidRanges);
    const matched = await run.select(query, all);
    for (const i of matched) if (!run.gone.has(i)) out.push(batch[i]!.record.uid);
    if (options.progress && batch.length > 0) options.progress(batch[batch.length - 1]!.record.uid);
    await slice.pause();
  }
  return out;
}

class BatchRun {
  readonly gone = new Set<number>();

  constructor(
    private readonly messages: LazyMessage[],
    private readonly slice: TimeSlice,
    private readonly uidRanges: WeakMap<SearchQuery, UidRanges>,
  ) {}

  /** The indexes among `among` (ascending) whose message matches `q`. */
  async select(q: SearchQuery, among: number[]): Promise<number[]> {
    switch (q.type) {
      case 'all':
        return among;
      case 'and': {
        let left = among;
        for (const sub of q.of) {
          if (left.length === 0) break;
          left = await this.select(sub, left);
        }
        return left;
      }
      case 'or': {
        const first = await this.select(q.of[0], among);
        if (first.length === among.length) return first;
        const second = await this.select(q.of[1], without(among, first));
        return merge(first, second);
      }
      case 'not':
        return without(among, await this.select(q.of, among));
      default:
        return this.leaf(q, among);
    }
  }

  private async leaf(q: SearchQuery, among: number[]): Promise<number[]> {
    const out: number[] = [];
    const ranges = q.type === 'uid' ? this.sortedRanges(q) : null;
    for (const i of among) {
      if (this.gone.has(i)) continue;
      const m = this.messages[i]!;
      try {
        if (ranges ? inRanges(ranges, m.msg.record.uid) : evaluate(q, m)) out.push(i);
      } catch (err) {
        if (!(err instanceof SearchTargetGone)) throw err;
        this.gone.add(i);
      }
      // Checked without an await when not due: a resolved await per message is measurable.
      if (this.slice.due) await this.slice.yieldNow();
    }
    return out;
  }

  /** The ranges of a UID key as ascending, merged [low, high] pairs, computed once per key. */
  private sortedRanges(q: SearchQuery & { type: 'uid' }): UidRanges {
    let sorted = this.uidRanges.get(q);
    if (!sorted) {
      sorted = normaliseRanges(q.ranges);
      this.uidRanges.set(q, sorted);
    }
    return sorted;
  }
}

export function normaliseRanges(ranges: UidRanges): UidRanges {
  const pairs = ranges.map(([a, b]): [number, number] => [Math.min(a, b), Math.max(a, b)]).sort((x, y) => x[0] - y[0]);
  const out: UidRanges = [];
  for (const [low, high] of pairs) {
    const last = out[out.length - 1];
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else out.push([low, high]);
  }
  return out;
}

function inRanges(sorted: UidRanges, uid: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = sorted[mid]!;
    if (uid < a) hi = mid - 1;
    else if (uid > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** `all` minus `some`; both ascending, `some` a subset of `all`. */
function without(all: number[], some: number[]): number[] {
  if (some.length === 0) return all;
  const out: number[] = [];
  let j = 0;
  for (const x of all) {
    if (j < some.length && some[j] === x) j++;
    else out.push(x);
  }
  return out;
}

/** Union of two disjoint ascending lists. */
function merge(a: number[], b: number[]): number[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
