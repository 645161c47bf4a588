/**
 * Backend-neutral evaluation of a SearchQuery against one message.
 *
 * Access to the message is lazy: flag, UID, size, modseq and internal-date keys never touch the
 * bytes or the MIME structure, and text is decoded at most once per evaluation (or once per message
 * when a TextCache is passed). Any backend can use this directly, or use it as the reference its own
 * pushed-down search must agree with.
 *
 * Text matching (RFC 3501 §6.4.4, RFC 9051 §6.4.4): substring matching on decoded Unicode text
 * under the i;unicode-casemap comparator (RFC 5051), which RFC 5255's I18NLEVEL=1 makes SEARCH's:
 * both sides are put in its titlecased, NFKD form (foldText), so case is ignored for every script,
 * "É" precomposed or as "E" + combining accent match each other, and so do fullwidth and plain
 * letters.
 */
import { bodyText, decodeHeaderText, parseHeaderFields, searchHeaderValues } from '../mime/index.js';
import { casemapKey } from '../mime/collation.js';
import type { MessageStructure } from '../mime/types.js';
import type { Day, SearchQuery, UidRanges } from './search-query.js';
import type { MessageRecord } from './types.js';

export interface SearchableMessage {
  record: MessageRecord;
  raw: () => Buffer;
  structure: () => MessageStructure;
  /** RFC 8474 EMAILID, for the 'emailid' key (a store whose search() compiles that key elsewhere may leave it out). */
  emailId?: () => string;
}

export interface MatchOptions {
  /** Shares decoded text between evaluations; `key` identifies the message content (e.g. its Buffer). */
  cache?: { texts: TextCache; key: TextCacheKey };
}

/**
 * Text as SEARCH compares it: the i;unicode-casemap form (RFC 5051 §2; src/mime/collation.ts). A
 * key matches where its form is a substring of the text's (the comparator's substring operation).
 * The SQLite and PostgreSQL stores keep FROM/TO/CC/BCC/SUBJECT in this form (search-columns.ts):
 * changing it needs their columns computed again, as SQLite v22 and PostgreSQL v10 did.
 */
export function foldText(text: string): string {
  return casemapKey(text);
}

export function matchesQuery(query: SearchQuery, msg: SearchableMessage, options: MatchOptions = {}): boolean {
  return evaluate(query, new LazyMessage(msg, options.cache));
}

/** @internal The reference evaluation of `q` on one message (search-run.ts evaluates leaves with it). */
export function evaluate(q: SearchQuery, m: LazyMessage): boolean {
  const record = m.msg.record;
  switch (q.type) {
    case 'all':
      return true;
    case 'and':
      return q.of.every((sub) => evaluate(sub, m));
    case 'or':
      return evaluate(q.of[0], m) || evaluate(q.of[1], m);
    case 'not':
      return !evaluate(q.of, m);
    case 'uid':
      return inRanges(record.uid, q.ranges);
    case 'flag': {
      // Flags are atoms, and atoms are case-insensitive (RFC 3501 §9 note 1).
      const wanted = q.flag.toLowerCase();
      return record.flags.some((f) => f.toLowerCase() === wanted) === q.set;
    }
    case 'size':
      return q.op === 'larger' ? record.size > q.octets : record.size < q.octets;
    case 'modseq':
      return record.modseq >= q.min;
    case 'internaldate':
      return compareDay(utcDay(record.internalDate), q.op, q.day);
    case 'savedate':
      // RFC 8514: a message whose save date is not known (NIL) has none to compare.
      return record.saveDate != null && compareDay(utcDay(record.saveDate), q.op, q.day);
    case 'emailid':
      return m.msg.emailId?.() === q.id;
    case 'arrival': {
      // Whole seconds, truncated as SQLite's integer division does (search-sql.ts must agree).
      const at = Math.trunc(record.internalDate.getTime() / 1000);
      const target = Math.trunc(q.time / 1000);
      return q.op === 'until' ? at <= target : at >= target;
    }
    case 'sentdate': {
      const day = m.sentDay();
      return day !== null && compareDay(day, q.op, q.day);
    }
    case 'header': {
      const values = m.headerValues(q.name);
      if (q.value === '') return values.length > 0;
      const n = needle(q);
      return values.some((v) => v.includes(n));
    }
    case 'body':
      return m.body().includes(needle(q));
    case 'text': {
      const n = needle(q);
      return m.headerText().includes(n) || m.body().includes(n);
    }
  }
}

/** A key's value, folded once per key rather than once per message (normalize() is slow). */
const folded = new WeakMap<SearchQuery, string>();
function needle(q: SearchQuery & { value: string }): string {
  let n = folded.get(q);
  if (n === undefined) folded.set(q, (n = foldText(q.value)));
  return n;
}

/** Ranges sorted and merged once per query, so a set of thousands of ranges costs a binary search. */
const sortedRanges = new WeakMap<UidRanges, Array<[number, number]>>();

function inRanges(uid: number, ranges: UidRanges): boolean {
  if (ranges.length <= 8) return ranges.some(([a, b]) => uid >= Math.min(a, b) && uid <= Math.max(a, b));
  let merged = sortedRanges.get(ranges);
  if (!merged) {
    merged = [];
    for (const [a, b] of ranges.map(([x, y]): [number, number] => [Math.min(x, y), Math.max(x, y)]).sort((x, y) => x[0] - y[0])) {
      const last = merged[merged.length - 1];
      if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    sortedRanges.set(ranges, merged);
  }
  let lo = 0;
  let hi = merged.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [a, b] = merged[mid]!;
    if (uid < a) hi = mid - 1;
    else if (uid > b) lo = mid + 1;
    else return true;
  }
  return false;
}

function compareDay(day: Day, op: 'before' | 'on' | 'since', target: Day): boolean {
  // "YYYY-MM-DD" strings order like the dates they name.
  if (op === 'before') return day < target;
  if (op === 'on') return day === target;
  return day >= target;
}

export function utcDay(date: Date): Day {
  return date.toISOString().slice(0, 10);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The calendar day a Date: header names, as written by the sender: RFC 3501 §6.4.4 SENTBEFORE etc.
 * disregard time and timezone, so "Tue, 1 Jul 2003 23:30:00 -0700" is 2003-07-01 even though it is
 * already July 2nd in UTC. Returns null when the value is not a recognisable date.
 */
export function sentDayOf(value: string | null): Day | null {
  if (!value) return null;
  const m = /(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\b/i.exec(value);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase());
    if (month >= 0) return formatDay(fullYear(m[3]!), month + 1, Number(m[1]));
  }
  // Not RFC 5322, but seen in the wild from broken software.
  const iso = /\b(\d{4})-(\d{2})-(\d{2})(?!\d)/.exec(value);
  if (iso) return formatDay(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  return null;
}

/** RFC 5322 §4.3 obsolete years: two digits 00–49 are 20xx, 50–99 are 19xx; three digits add 1900. */
function fullYear(text: string): number {
  const y = Number(text);
  if (text.length === 2) return y < 50 ? 2000 + y : 1900 + y;
  if (text.length === 3) return 1900 + y;
  return y;
}

function formatDay(year: number, month: number, day: number): Day | null {
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** @internal Memoises the expensive views of one message for the length of one evaluation. */
export class LazyMessage {
  private local: CachedText = {};

  constructor(
    readonly msg: SearchableMessage,
    private readonly cache: MatchOptions['cache'],
  ) {}

  private shared: CachedText | undefined;

  private texts(): CachedText {
    if (!this.cache) return this.local;
    // Looked up once: the LRU bookkeeping of every lookup was most of a many-key search's time.
    // An entry evicted meanwhile still serves this message; it is only no longer shared.
    return (this.shared ??= this.cache.texts.entry(this.cache.key));
  }

  private remember<K extends keyof CachedText>(key: K, compute: () => NonNullable<CachedText[K]>): NonNullable<CachedText[K]> {
    const texts = this.texts();
    const known = texts[key];
    if (known !== undefined) return known as NonNullable<CachedText[K]>;
    const value = compute();
    texts[key] = value;
    this.cache?.texts.touch(this.cache.key);
    return value;
  }

  sentDay(): Day | null {
    const day = this.remember('sentDay', () => sentDayOf(this.msg.structure().envelope.date) ?? '');
    return day === '' ? null : day;
  }

  headerValues(name: string): string[] {
    const lower = name.toLowerCase();
    const fields = this.remember('fields', () => new Map<string, string[]>());
    let values = fields.get(lower);
    if (!values) {
      values = searchHeaderValues(this.msg.raw(), this.msg.structure(), name).map(foldText);
      fields.set(lower, values);
      this.cache?.texts.touch(this.cache.key);
    }
    return values;
  }

  headerText(): string {
    return this.remember('headers', () => {
      const root = this.msg.structure().root;
      const fields = parseHeaderFields(this.msg.raw(), root.headerStart, root.bodyStart);
      return foldText(fields.map((f) => `${f.name}: ${decodeHeaderText(f.value)}`).join('\r\n'));
    });
  }

  body(): string {
    return this.remember('body', () => foldText(bodyText(this.msg.raw(), this.msg.structure())));
  }
}

/**
 * Identifies one message content. Prefer a number or string: an object key is held strongly until
 * evicted, so keying by something that references the bytes keeps those bytes alive.
 */
export type TextCacheKey = string | number | object;

/** Decoded, folded text of one message content; each part is filled in when first needed. */
export interface CachedText {
  body?: string;
  headers?: string;
  fields?: Map<string, string[]>;
  /** '' when the message has no usable Date: header. */
  sentDay?: string;
}

/**
 * A bounded LRU of decoded message text, so repeated SEARCH BODY/TEXT over the same mailbox does not
 * re-decode every message. Bounded by entry count and by total characters held.
 */
export class TextCache {
  private readonly entries = new Map<TextCacheKey, { text: CachedText; chars: number }>();
  private chars = 0;

  constructor(
    private readonly maxEntries = 1000,
    private readonly maxChars = 16 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The (possibly new, empty) entry for `key`, marked most recently used. */
  entry(key: TextCacheKey): CachedText {
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
      return found.text;
    }
    const created = { text: {}, chars: 0 };
    this.entries.set(key, created);
    this.evict(key);
    return created.text;
  }

  /** Re-measures an entry after it grew, evicting older entries to stay within bounds. */
  touch(key: TextCacheKey): void {
    const found = this.entries.get(key);
    if (!found) return;
    const t = found.text;
    let chars = (t.body?.length ?? 0) + (t.headers?.length ?? 0);
    for (const values of t.fields?.values() ?? []) for (const v of values) chars += v.length;
    this.chars += chars - found.chars;
    found.chars = chars;
    this.evict(key);
  }

  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }

  private evict(keep: TextCacheKey): void {
    for (const [key, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      if (key === keep) continue;
      this.entries.delete(key);
      this.chars -= value.chars;
    }
  }
}
