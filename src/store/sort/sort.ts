/**
 * SORT (RFC 5256 §3, RFC 5957): ordering messages by a sort program, over the keys of
 * sort-data.ts. Protocol-free: the IMAP command parses the program and prints the result.
 *
 * Strings compare in i;unicode-casemap order (the keys are already casemapped; code point order
 * between them), the empty string first; dates and sizes ascending; REVERSE turns one criterion
 * round; messages equal by every criterion keep mailbox (UID) order, which REVERSE never affects.
 *
 * The full sorted order of a mailbox is cached per key list (sortData's array, by identity) and
 * program, so repeating a SORT — or the same SORT with other search criteria — only filters it.
 */
import type { SortableMessage, SortKeyNames } from '../types.js';
import { drain, drainInSlices } from '../../util/time-slice.js';

export type SortKey = 'arrival' | 'cc' | 'date' | 'from' | 'size' | 'subject' | 'to' | 'displayfrom' | 'displayto';

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

/** RFC 5256 §2.2: the sent date, or the INTERNALDATE when the message has none. */
export function sortDate(m: SortableMessage): number {
  return m.sentDate ?? m.internalDate;
}

/**
 * The key as a value JavaScript's `<` orders correctly: numbers as they are; casemapped strings
 * with UTF-16 units rearranged so that code point order (the collation's i;octet over UTF-8)
 * comes out — surrogates (code points above U+FFFF) after U+E000–U+FFFF. Only strings that hold
 * such units are copied.
 */
const HIGH_UNITS = /[\ud800-\uffff]/;
function comparable(text: string): string {
  if (!HIGH_UNITS.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += String.fromCharCode(c < 0xd800 ? c : c < 0xe000 ? c + 0x2000 : c - 0x800);
  }
  return out;
}

function keyValues(list: readonly SortableMessage[], key: SortKey): Array<number | string> {
  switch (key) {
    case 'arrival':
      return list.map((m) => m.internalDate);
    case 'date':
      return list.map(sortDate);
    case 'size':
      return list.map((m) => m.size);
    case 'subject':
      return list.map((m) => comparable(m.subject));
    case 'from':
      return list.map((m) => comparable(m.from));
    case 'to':
      return list.map((m) => comparable(m.to));
    case 'cc':
      return list.map((m) => comparable(m.cc));
    case 'displayfrom':
      return list.map((m) => comparable(m.displayFrom));
    case 'displayto':
      return list.map((m) => comparable(m.displayTo));
  }
}

/** The message keys a sort by `program` reads (sortData's hint to the store). */
export function keysReadBy(program: readonly SortCriterion[]): SortKeyNames {
  const names = new Set<keyof SortableMessage>();
  for (const { key } of program) {
    if (key === 'arrival') names.add('internalDate');
    else if (key === 'date') names.add('sentDate').add('internalDate');
    else names.add(key === 'displayfrom' ? 'displayFrom' : key === 'displayto' ? 'displayTo' : key);
  }
  return [...names];
}

/** The comparator of `columns` over indexes: a strict total order (ties by index, i.e. mailbox order). */
function comparator(columns: ReadonlyArray<{ values: ReadonlyArray<number | string>; sign: number }>): (a: number, b: number) => number {
  return (a, b) => {
    for (const { values, sign } of columns) {
      const x = values[a]!;
      const y = values[b]!;
      if (x < y) return -sign;
      if (x > y) return sign;
    }
    return a - b;
  };
}

/** Indexes into `list` in sorted order (`list` ascending by UID, so index order is mailbox order). */
function computeOrder(list: readonly SortableMessage[], program: readonly SortCriterion[]): Uint32Array {
  const columns = program.map((c) => ({ values: keyValues(list, c.key), sign: c.reverse ? -1 : 1 }));
  const order = new Uint32Array(list.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort(comparator(columns));
  return order;
}

/** Indexes sorted in one step by computeOrderInSlices(): a few milliseconds of work at most. */
const RUN = 4_096;
/** Elements merged or keyed between looks at the clock. */
const STEP = 4_096;

/**
 * computeOrder() with the event loop let go between time slices (`pause`): one sort of 100,000
 * subjects was one stretch of 30–40 ms of CPU (issue 13: no command may hold the loop for more
 * than a few milliseconds). The keys are read in steps, runs of RUN indexes sorted each in one
 * step, then merged pairwise in steps (indexesInSlices). The comparator is a strict total order
 * (ties broken by index), so the merged order is exactly the order one sort gives.
 */
async function computeOrderInSlices(list: readonly SortableMessage[], program: readonly SortCriterion[], pause: () => Promise<void>): Promise<Uint32Array> {
  const n = list.length;
  const columns: Array<{ values: Array<number | string>; sign: number }> = [];
  for (const c of program) {
    const values = new Array<number | string>(n);
    for (let i = 0; i < n; i += STEP) {
      const part = keyValues(list.slice(i, i + STEP), c.key);
      for (let k = 0; k < part.length; k++) values[i + k] = part[k]!;
      await pause();
    }
    columns.push({ values, sign: c.reverse ? -1 : 1 });
  }
  return indexesInSlices(n, comparator(columns), pause);
}

/**
 * The indexes 0..n-1 ordered by `compare` (a strict total order), with the event loop let go
 * between time slices (`pause`): runs of RUN sorted each in one step, then merged pairwise in
 * steps of STEP. A strict total order has one sorted arrangement, so this is what one sort gives.
 */
export function indexesInSlices(n: number, compare: (a: number, b: number) => number, pause: () => Promise<void>): Promise<Uint32Array> {
  return drainInSlices(indexesSteps(n, compare), pause);
}

/** indexesInSlices() as steps: a generator that yields where that lets the loop go. */
export function* indexesSteps(n: number, compare: (a: number, b: number) => number): Generator<void, Uint32Array> {
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < n; i += RUN) {
    order.subarray(i, Math.min(n, i + RUN)).sort(compare);
    yield;
  }
  let into = new Uint32Array(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      let a = lo;
      let b = mid;
      let k = lo;
      while (k < hi) {
        const stop = Math.min(hi, k + STEP);
        while (k < stop) into[k++] = b >= hi || (a < mid && compare(order[a]!, order[b]!) < 0) ? order[a++]! : order[b++]!;
        yield;
      }
    }
    [order, into] = [into, order];
  }
  return order;
}

/** Sorted orders cached per key list; a handful of programs each. */
const MAX_PROGRAMS = 8;
const orders = new WeakMap<readonly SortableMessage[], Map<string, Uint32Array>>();

/** The sorted order of all of `list` (indexes), from the cache when this program was sorted before. */
export function sortedOrder(list: readonly SortableMessage[], program: readonly SortCriterion[]): Uint32Array {
  return cachedOrder(list, program) ?? keepOrder(list, program, computeOrder(list, program));
}

/** As sortedOrder(), letting the event loop run between time slices (`pause`) when not cached. */
export async function sortedOrderInSlices(list: readonly SortableMessage[], program: readonly SortCriterion[], pause: () => Promise<void>): Promise<Uint32Array> {
  return cachedOrder(list, program) ?? keepOrder(list, program, await computeOrderInSlices(list, program, pause));
}

const programName = (program: readonly SortCriterion[]): string => program.map((c) => (c.reverse ? `-${c.key}` : c.key)).join(' ');

function cachedOrder(list: readonly SortableMessage[], program: readonly SortCriterion[]): Uint32Array | undefined {
  const cached = orders.get(list);
  const name = programName(program);
  const hit = cached?.get(name);
  if (hit) {
    cached!.delete(name);
    cached!.set(name, hit);
  }
  return hit;
}

function keepOrder(list: readonly SortableMessage[], program: readonly SortCriterion[], order: Uint32Array): Uint32Array {
  let cached = orders.get(list);
  if (!cached) orders.set(list, (cached = new Map()));
  cached.set(programName(program), order);
  if (cached.size > MAX_PROGRAMS) cached.delete(cached.keys().next().value as string);
  return order;
}

/**
 * Indexes into `list` of the messages among `uids` (ascending), in the program's order; UIDs
 * without keys are left out. The result may be the cached order itself: do not modify it.
 */
export function sortIndexes(list: readonly SortableMessage[], uids: readonly number[], program: readonly SortCriterion[]): Uint32Array {
  return selected(list, uids, sortedOrder(list, program));
}

/** As sortIndexes(), letting the event loop run between time slices (`pause`) while it sorts. */
export async function sortIndexesInSlices(
  list: readonly SortableMessage[],
  uids: readonly number[],
  program: readonly SortCriterion[],
  pause: () => Promise<void>,
): Promise<Uint32Array> {
  return drainInSlices(selectedSteps(list, uids, await sortedOrderInSlices(list, program, pause)), pause);
}

/** The entries of `order` among `uids`, in order: `order` itself when that is all of `list`. */
function selected(list: readonly SortableMessage[], uids: readonly number[], order: Uint32Array): Uint32Array {
  return drain(selectedSteps(list, uids, order));
}

/**
 * selected() as steps, yielding every STEP messages: at 100,000 messages the comparison with the
 * selection alone (a store's key objects read one by one) was a stretch of its own (issue 13).
 */
function* selectedSteps(list: readonly SortableMessage[], uids: readonly number[], order: Uint32Array): Generator<void, Uint32Array> {
  let same = uids.length === list.length;
  for (let i = 0; i < uids.length && same; i++) {
    same = uids[i] === list[i]!.uid;
    if (i % STEP === STEP - 1) yield;
  }
  if (same) return order; // the whole mailbox: the cached order as it is
  const mask = new Uint8Array(list.length);
  let j = 0;
  for (let i = 0; i < list.length && j < uids.length; i++) {
    const uid = list[i]!.uid;
    while (j < uids.length && uids[j]! < uid) j++;
    if (uids[j] === uid) mask[i] = 1;
    if (i % STEP === STEP - 1) yield;
  }
  const out = new Uint32Array(order.length);
  let n = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (mask[i]) out[n++] = i;
    if (k % STEP === STEP - 1) yield;
  }
  return out.subarray(0, n);
}

/** The UIDs among `uids` (ascending), sorted by the program. UIDs without keys are left out. */
export function sortUids(list: readonly SortableMessage[], uids: readonly number[], program: readonly SortCriterion[]): number[] {
  const indexes = sortIndexes(list, uids, program);
  const out = new Array<number>(indexes.length);
  for (let k = 0; k < indexes.length; k++) out[k] = list[indexes[k]!]!.uid;
  return out;
}

/** A comparator by the program for single messages (placing a new message into a live SORT context). */
export function compareBy(program: readonly SortCriterion[]): (a: SortableMessage, b: SortableMessage) => number {
  return (a, b) => {
    for (const c of program) {
      const [x] = keyValues([a], c.key);
      const [y] = keyValues([b], c.key);
      if (x! < y!) return c.reverse ? 1 : -1;
      if (x! > y!) return c.reverse ? -1 : 1;
    }
    return a.uid - b.uid;
  };
}
