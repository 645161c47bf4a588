/**
 * Comparators (RFC 4790 §9: i;octet, i;ascii-casemap, i;ascii-numeric) and match types (RFC 5228
 * §2.7.1, RFC 5231 relational). `:matches` uses a matcher without backtracking: the pattern is
 * cut at its stars into segments, the first anchored at the start, the last at the end, and each
 * middle one placed at its leftmost fit after the previous. For patterns of literals, "?" and "*"
 * that is exact, finds the non-greedy captures RFC 5229 §3.2 asks for, and costs at most
 * (text length × longest segment) steps — counted against a budget; past it the comparison is
 * "no match" (docs/sieve.md).
 */

export type Comparator = string;

/**
 * i;ascii-casemap's folding (RFC 4790 §9.2): A–Z to a–z, nothing else. A loop over the characters
 * rather than a regular expression test and a replace with a callback: run for every value a
 * delivery's script compares, and at delivery each regular expression is one more piece of code
 * loaded cold (bench/RESULTS.md, "Sieve: fixed cost of a run"). A string of ASCII only is folded by
 * toLowerCase (the same there); one with other characters keeps them as they are.
 */
export function foldAscii(s: string): string {
  let upper = false;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (c >= 0x80) ascii = false;
  }
  if (!upper) return s;
  if (ascii) return s.toLowerCase();
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      out += s.slice(from, i) + String.fromCharCode(c | 0x20);
      from = i + 1;
    }
  }
  return out + s.slice(from);
}

export class StepBudget {
  used = 0;
  constructor(readonly max: number) {}
}

type PatternToken = { kind: 'lit'; ch: string } | { kind: 'one' };
/**
 * One run of a :matches pattern between stars: its tokens, and — when it has no "?" and at most
 * LITERAL_MAX characters — its text, which a value without surrogate pairs (a string) is searched
 * for with startsWith/indexOf instead of token by token. A token is an object per character, and
 * at delivery the run's patterns meet caches the rest of the server has just used: one string per
 * segment is far less to load than an object per character (bench/RESULTS.md, issue 17).
 */
export interface Segment {
  tokens: PatternToken[];
  /** The segment's characters when none is "?" and there are at most LITERAL_MAX; else null. */
  literal: string | null;
  /** Characters (code points) in the segment. */
  length: number;
}
/**
 * Longest segment searched with indexOf. Such a search is charged one step per offset it passes
 * and the segment's length (what the character-by-character search costs when the first
 * character differs, as it nearly always does); at this length, what it can really do at each
 * offset stays within a small multiple of that.
 */
const LITERAL_MAX = 16;
/** A :matches pattern cut at its stars (splitPattern); what a compiled test keeps of each key (prepare.ts). */
export type Segments = Segment[];

function splitPattern(pattern: string): Segments {
  const cut: PatternToken[][] = [[]];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) cut[cut.length - 1]!.push({ kind: 'lit', ch: chars[++i]! });
    else if (c === '*') cut.push([]);
    else if (c === '?') cut[cut.length - 1]!.push({ kind: 'one' });
    else cut[cut.length - 1]!.push({ kind: 'lit', ch: c });
  }
  return cut.map((tokens) => ({
    tokens,
    literal: tokens.length <= LITERAL_MAX && tokens.every((t) => t.kind === 'lit') ? tokens.map((t) => (t as { ch: string }).ch).join('') : null,
    length: tokens.length,
  }));
}

/**
 * Split patterns by their text (folded when the comparison folds): a script's keys are the same
 * strings on every run, so each is cut once, not once per message and value. Bounded; emptied
 * when full (patterns built from variables can be many).
 */
const PATTERN_CACHE_ENTRIES = 4096;
/** By the pattern as written: one map for comparisons that fold, one for those that do not. */
const patterns = { folded: new Map<string, Segments>(), exact: new Map<string, Segments>() };
export function segmentsOf(pattern: string, fold: boolean): Segments {
  const cache = fold ? patterns.folded : patterns.exact;
  let segments = cache.get(pattern);
  if (!segments) {
    if (cache.size >= PATTERN_CACHE_ENTRIES) cache.clear();
    cache.set(pattern, (segments = splitPattern(fold ? foldAscii(pattern) : pattern)));
  }
  return segments;
}

/** A string's characters (code points) as something indexable: the string itself when it has no surrogate pairs. */
function codePoints(s: string): ArrayLike<string> {
  // (A loop, not /[\uD800-\uDFFF]/: see foldAscii.)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return Array.from(s);
  }
  return s;
}

function slice(text: ArrayLike<string>, start: number, end: number): string {
  return typeof text === 'string' ? text.slice(start, end) : Array.prototype.slice.call(text, start, end).join('');
}

/** Does `seg` fit `cmp` at `at`? Every character compared is a step of the budget. */
function fits(seg: Segment, cmp: ArrayLike<string>, at: number, budget: StepBudget): boolean {
  if (seg.literal !== null && typeof cmp === 'string') {
    budget.used += seg.length;
    return cmp.startsWith(seg.literal, at);
  }
  const tokens = seg.tokens;
  for (let j = 0; j < tokens.length; j++) {
    budget.used++;
    const t = tokens[j]!;
    if (t.kind === 'lit' && cmp[at + j] !== t.ch) return false;
  }
  return true;
}

/** The leftmost offset in [from, last] where `seg` fits, or -1 (not there, or the budget spent). */
function leftmost(seg: Segment, cmp: ArrayLike<string>, from: number, last: number, budget: StepBudget): number {
  if (from > last) return -1;
  if (seg.literal !== null && typeof cmp === 'string') {
    const q = cmp.indexOf(seg.literal, from);
    const found = q !== -1 && q <= last;
    // Past the budget, the count stops just over it (as the loop below would).
    budget.used = Math.min(budget.used + (found ? q - from + seg.length : last - from + 1), budget.max + 1);
    return found && budget.used <= budget.max ? q : -1;
  }
  for (let q = from; q <= last; q++) {
    if (fits(seg, cmp, q, budget)) return q;
    if (budget.used > budget.max) return -1;
  }
  return -1;
}

/**
 * `value` against the wildcard `pattern`: null for no match (or budget spent), else the match
 * variables — [whole value, one string per wildcard in pattern order].
 */
export function wildcardMatch(value: string, pattern: string, fold: boolean, budget: StepBudget): string[] | null {
  return matchValue(matchable(value, fold), pattern, budget);
}

/** A value made ready for matching against many patterns: its characters, and folded ones to compare. */
export interface MatchableValue {
  value: string;
  fold: boolean;
  text: ArrayLike<string>;
  cmp: ArrayLike<string>;
}

export function matchable(value: string, fold: boolean): MatchableValue {
  const text = codePoints(value);
  return { value, fold, text, cmp: fold ? codePoints(foldAscii(value)) : text };
}

/** wildcardMatch for a value prepared once (a test compares each value with every key). */
export function matchValue(prepared: MatchableValue, pattern: string, budget: StepBudget): string[] | null {
  const { value, text } = prepared;
  const segments = segmentsOf(pattern, prepared.fold);
  const starts: number[] = [];
  if (!placeSegments(prepared, segments, budget, starts)) return null;
  const last = segments.length - 1;
  const captures = [value];
  for (let i = 0; i <= last; i++) {
    const seg = segments[i]!;
    const s = starts[i]!;
    if (seg.literal === null) for (let j = 0; j < seg.length; j++) if (seg.tokens[j]!.kind === 'one') captures.push(text[s + j]!);
    if (i < last) captures.push(slice(text, s + seg.length, starts[i + 1]!));
  }
  return captures;
}

/**
 * Whether `prepared` matches the pattern cut into `segments`, without the match variables: what a
 * test of a script without variables asks (prepare.ts), with no array made per comparison.
 */
export function matchesSegments(prepared: MatchableValue, segments: Segments, budget: StepBudget): boolean {
  return placeSegments(prepared, segments, budget, null);
}

/**
 * Places each segment at its leftmost fit (the first at the start, the last at the end); false
 * when one does not fit or the budget is spent. `starts`, when given, gets each segment's offset.
 */
function placeSegments(prepared: MatchableValue, segments: Segments, budget: StepBudget, starts: number[] | null): boolean {
  const cmp = prepared.cmp;
  const n = prepared.text.length;
  const last = segments.length - 1;
  const first = segments[0]!;
  if (last === 0) {
    if (n !== first.length || !fits(first, cmp, 0, budget)) return false;
  } else if (first.length > n || !fits(first, cmp, 0, budget)) {
    return false;
  }
  starts?.push(0);
  if (last > 0) {
    const tail = segments[last]!;
    const end = n - tail.length;
    if (end < first.length || !fits(tail, cmp, end, budget)) return false;
    let pos = first.length;
    for (let i = 1; i < last; i++) {
      const seg = segments[i]!;
      const q = leftmost(seg, cmp, pos, end - seg.length, budget);
      if (q < 0) return false;
      starts?.push(q);
      pos = q + seg.length;
    }
    starts?.push(end);
  }
  return budget.used <= budget.max;
}

/** RFC 4790 §9.1: the number a string starts with, as a digit string without leading zeros; null = positive infinity. */
function numericKey(s: string): string | null {
  const m = /^[0-9]+/.exec(s);
  if (!m) return null;
  return m[0].replace(/^0+(?=\d)/, '');
}

/** Ordering of two strings under a comparator: negative, zero or positive. */
export function order(comparator: Comparator, a: string, b: string): number {
  if (comparator === 'i;ascii-numeric') {
    const x = numericKey(a);
    const y = numericKey(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
  }
  if (comparator === 'i;ascii-casemap') return Buffer.compare(Buffer.from(foldAscii(a)), Buffer.from(foldAscii(b)));
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function relation(op: string, c: number): boolean {
  switch (op) {
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    default:
      return false;
  }
}

export function equals(comparator: Comparator, a: string, b: string): boolean {
  if (comparator === 'i;octet') return a === b;
  if (comparator === 'i;ascii-casemap') return a.length === b.length && foldAscii(a) === foldAscii(b);
  return order(comparator, a, b) === 0;
}

export function contains(comparator: Comparator, a: string, b: string): boolean {
  return comparator === 'i;octet' ? a.includes(b) : foldAscii(a).includes(foldAscii(b));
}

/** RFC 5229 :quotewildcard — the characters special to :matches, escaped. */
export function quoteWildcard(s: string): string {
  return s.replace(/[*?\\]/g, '\\$&');
}
