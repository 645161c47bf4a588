/**
 * The tests: each returns true or false for the message (RFC 5228 §5 and the extensions'
 * tests), short-circuiting left to right (RFC 5229 §3.2), setting the match variables on a
 * successful :matches when the script uses variables.
 */
import type { Instruction, PreparedTest } from './program.js';
import { contains, equals, foldAscii, matchesSegments, matchValue, order, relation } from './match.js';
import { addressPart, type SplitAddress } from './message.js';
import { canonicalFlags, SieveRuntimeError, type RunState } from './state.js';
import { bodyStrings } from './body.js';
import { datePart, parseHeaderDate, zoneMinutes, type ZonedTime } from './date.js';
import { IMPLICIT_EXTENSIONS, RELATIONAL_OPS } from './spec.js';

/**
 * A test's answer: at once, or — for the tests that need I/O (`body`, `mailboxexists`) and the
 * tests around them — a promise. Most scripts never wait, and a promise per test was the largest
 * part of running one (run.ts, Runner.block).
 */
export function evaluate(st: RunState, t: Instruction): boolean | Promise<boolean> {
  st.checkClock(t);
  // Most tests of most scripts are prepared (prepare.ts): answered before the switch, whose string
  // cases were compared one by one for each of them.
  const p = t.prepared;
  if (p !== null) return evaluatePrepared(st, t, p);
  switch (t.name) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not': {
      const r = evaluate(st, t.tests[0]!);
      return typeof r === 'boolean' ? !r : r.then(negate);
    }
    case 'allof':
      return every(st, t.tests, 0, false);
    case 'anyof':
      return every(st, t.tests, 0, true);
    case 'exists':
      return exists(st, t);
    case 'size': {
      const n = t.pos[0] as number;
      return t.tags.has('over') ? st.env.size > n : st.env.size < n;
    }
    case 'header': {
      const names = st.list(t.pos[0]);
      // The usual test names one field and no :index: its values as MessageView keeps them.
      const values = names.length === 1 && !t.tags.has('index') ? st.msg.decoded(names[0]!) : headerValues(st, t, names);
      return compareValues(st, t, values, st.list(t.pos[1]));
    }
    case 'address': {
      const names = st.list(t.pos[0]);
      if (names.length === 1 && !t.tags.has('index')) return compareValues(st, t, st.msg.addressParts(names[0]!, t.addressPart, st.separator), st.list(t.pos[1]));
      return compareValues(st, t, parts(st, t, addressesOf(st, t, names)), st.list(t.pos[1]));
    }
    case 'envelope': {
      noEnvelopeAtImap(st, t);
      const which = st.list(t.pos[0]);
      // The usual test names one part of the envelope: its value as the run keeps it.
      if (which.length === 1) {
        const name = which[0]!.toLowerCase();
        const values = name === 'from' || name === 'to' ? st.envelopeParts(name, t.addressPart) : [];
        return compareValues(st, t, values, st.list(t.pos[1]));
      }
      const addrs: SplitAddress[] = [];
      for (const p of which) {
        const name = p.toLowerCase();
        if (name === 'from') addrs.push(st.envelopeFrom);
        else if (name === 'to') addrs.push(st.envelopeTo);
      }
      return compareValues(st, t, parts(st, t, addrs), st.list(t.pos[1]));
    }
    case 'mailboxexists':
      return mailboxesExist(st, t);
    case 'hasflag':
      return hasflag(st, t);
    case 'string':
      return stringTest(st, t);
    case 'body':
      return bodyTest(st, t);
    case 'date':
    case 'currentdate':
      return dateTest(st, t);
    case 'ihave':
      return ihave(st, t);
    case 'environment': {
      const value = environmentItem(st, st.str(t.pos[0]).toLowerCase());
      return value === undefined ? false : compareValues(st, t, [value], st.list(t.pos[1]));
    }
    default:
      throw new SieveRuntimeError(t.offset, `test "${t.name}" is not implemented`);
  }
}

/*
 * The tests whose code needs a closure, each in a function of its own: a closure in evaluate()
 * itself would make every call of it — fifty and more per message — allocate a context for the
 * variables the closure captures, whichever test it runs.
 */
const negate = (x: boolean): boolean => !x;

function exists(st: RunState, t: Instruction): boolean {
  return st.list(t.pos[0]).every((h) => st.msg.has(h));
}

function headerValues(st: RunState, t: Instruction, names: string[]): string[] {
  return names.flatMap((h) => pickField(t, st.msg.decoded(h)));
}

function addressesOf(st: RunState, t: Instruction, names: string[]): SplitAddress[] {
  return names.flatMap((h) => pickField(t, st.msg.addressesByField(h)).flat());
}

function hasflag(st: RunState, t: Instruction): boolean {
  const flags = t.pos.length === 2 ? canonicalFlags(st.list(t.pos[0]).map((v) => st.vars.get(v))) : st.flags;
  return compareValues(st, t, flags, canonicalFlags(st.list(t.pos[t.pos.length - 1])));
}

function stringTest(st: RunState, t: Instruction): boolean {
  const sources = st.list(t.pos[0]);
  // RFC 5229 §5: for :count, empty strings are not counted.
  const values = t.match.kind === 'count' ? sources.filter((s) => s !== '') : sources;
  return compareValues(st, t, values, st.list(t.pos[1]));
}

function ihave(st: RunState, t: Instruction): boolean {
  const available = st.program.available;
  return (t.pos[0] as string[]).every((c) => available.has(c.toLowerCase()) || IMPLICIT_EXTENSIONS.includes(c.toLowerCase()));
}

/**
 * allof (`until` false: every test true) or anyof (`until` true: some test true), left to right
 * from tests[from], stopping at the first test that decides (RFC 5229 §3.2); synchronous until a
 * test returns a promise.
 */
export function every(st: RunState, tests: Instruction[], from: number, until: boolean): boolean | Promise<boolean> {
  for (let i = from; i < tests.length; i++) {
    const r = evaluate(st, tests[i]!);
    if (typeof r !== 'boolean') return everyAfter(st, tests, i, until, r);
    if (r === until) return until;
  }
  return !until;
}

/** every() once tests[i] answered with a promise (its own function: see negate). */
function everyAfter(st: RunState, tests: Instruction[], i: number, until: boolean, r: Promise<boolean>): Promise<boolean> {
  return r.then((x) => (x === until ? until : every(st, tests, i + 1, until)));
}

async function mailboxesExist(st: RunState, t: Instruction): Promise<boolean> {
  for (const m of st.list(t.pos[0])) if (!(await st.env.mailboxExists(m))) return false;
  return true;
}

async function bodyTest(st: RunState, t: Instruction): Promise<boolean> {
  const body = await st.body();
  const content = t.tags.get('content');
  const transform = t.tags.has('raw') ? 'raw' : Array.isArray(content) ? st.list(content) : 'text';
  const key = JSON.stringify(transform);
  let strings = st.bodyStrings.get(key);
  if (!strings) st.bodyStrings.set(key, (strings = bodyStrings(st.header, body, transform)));
  return compareValues(st, t, strings, st.list(t.pos[0]));
}

/** RFC 5183 §4: what this interpreter says of itself and where it runs (at delivery, in the MDA). */
const ENVIRONMENT_DEFAULTS: Readonly<Record<string, string>> = { name: 'Postroom', location: 'MDA', phase: 'during' };

/** RFC 6785 §4.1: at an IMAP event the script runs in the message store, after delivery. */
const IMAP_EVENT_DEFAULTS: Readonly<Record<string, string>> = { name: 'Postroom', location: 'MS', phase: 'post' };

/** The items RFC 6785 §4.2–§4.5 defines: known to scripts that require "imapsieve". */
const IMAPSIEVE_ITEMS: ReadonlySet<string> = new Set(['imap.user', 'imap.email', 'imap.cause', 'imap.mailbox', 'imap.changedflags']);

/**
 * An environment item's value (RFC 5183 §4), or undefined when there is none (the test is then
 * false). The imap.* items exist for scripts that require "imapsieve"; at delivery they are empty
 * (RFC 6785 §4.2, §4.5).
 */
function environmentItem(st: RunState, name: string): string | undefined {
  const event = st.env.imap;
  if (IMAPSIEVE_ITEMS.has(name) && st.uses('imapsieve')) {
    if (!event) return '';
    if (name === 'imap.user') return event.user;
    if (name === 'imap.email') return event.email;
    if (name === 'imap.cause') return event.cause;
    if (name === 'imap.mailbox') return event.mailbox;
    return event.changedFlags.join(' ');
  }
  const items = st.env.environment ?? {};
  if (Object.hasOwn(items, name)) return items[name];
  const defaults = event ? IMAP_EVENT_DEFAULTS : ENVIRONMENT_DEFAULTS;
  return Object.hasOwn(defaults, name) ? defaults[name] : undefined;
}

/**
 * The fields a test looks at: all of them, or with :index (RFC 5260 §6) only the one at that
 * position from the top (or, with :last, from the bottom); `firstOnly` for date, which reads one.
 */
function pickField<T>(t: Instruction, fields: T[], firstOnly = false): T[] {
  const index = t.tags.get('index');
  if (typeof index !== 'number') return firstOnly ? fields.slice(0, 1) : fields;
  const at = t.tags.has('last') ? fields.length - index : index - 1;
  return at >= 0 && at < fields.length ? [fields[at]!] : [];
}

function parts(st: RunState, t: Instruction, addrs: SplitAddress[]): string[] {
  const out: string[] = [];
  for (const a of addrs) {
    const p = addressPart(a, t.addressPart, st.separator);
    if (p !== null) out.push(p);
  }
  return out;
}

function dateTest(st: RunState, t: Instruction): boolean {
  let when: ZonedTime | null;
  const isDate = t.name === 'date';
  if (isDate) {
    const field = st.str(t.pos[0]);
    const first = pickField(t, st.msg.raw(field), true)[0];
    when = first === undefined ? null : parseHeaderDate(first, field);
  } else {
    const now = st.env.now ?? new Date();
    when = { utc: now.getTime(), offset: 0 };
  }
  if (when === null) return false;
  const zone = t.tags.get('zone');
  if (typeof zone === 'string') {
    const z = st.str(zone);
    if (!/^[+-]\d{4}$/.test(z)) throw new SieveRuntimeError(t.offset, `":zone" must be "+hhmm" or "-hhmm", not "${z}"`);
    when = { utc: when.utc, offset: zoneMinutes(z) };
  } else if (!t.tags.has('originalzone')) {
    // RFC 5260 §4.1: without :zone (or :originalzone), the local time zone.
    when = { utc: when.utc, offset: -new Date(when.utc).getTimezoneOffset() };
  }
  const part = st.str(t.pos[isDate ? 1 : 0]);
  const value = datePart(when, part);
  if (value === null) throw new SieveRuntimeError(t.offset, `unknown date part "${part}"`);
  return compareValues(st, t, [value], st.list(t.pos[isDate ? 2 : 1]));
}

/**
 * Keys folded for i;ascii-casemap, remembered per test. A script's key lists are the same arrays
 * on every run (a single string too: RunState.list), so each is folded once, not once per
 * message; keys built at run time (variables, hasflag) are folded again whenever they differ.
 * Keyed by the test, not by the list: a table keyed by every fresh list grew with each message
 * and made the old generation collect several times as often. (A field's values are folded once
 * per run: RunState.folded.)
 */
const folded = new WeakMap<Instruction, { keys: readonly string[]; folded: string[] }>();
function foldedKeys(t: Instruction, keys: string[]): string[] {
  const known = folded.get(t);
  if (known?.keys === keys) return known.folded;
  const out = keys.map(foldAscii);
  folded.set(t, { keys, folded: out });
  return out;
}

/** RFC 5231 :count and :value (a function of its own: its closures would cost every compareValues call a context). */
function compareRelational(st: RunState, t: Instruction, values: string[], keys: string[]): boolean {
  const m = t.match as Extract<Instruction['match'], { op: string }>;
  const comparator = t.comparator;
  const op = st.str(m.op).toLowerCase();
  if (!RELATIONAL_OPS.has(op)) throw new SieveRuntimeError(t.offset, `unknown relational operator "${op}"`);
  if (m.kind === 'count') return keys.some((k) => relation(op, order(comparator, String(values.length), k)));
  for (const v of values) {
    if (keys.some((k) => relation(op, order(comparator, v, k)))) return true;
    st.checkClock(t);
  }
  return false;
}

/** RFC 6785 §4.6: there is no envelope at an IMAP event; using the test is a runtime error. */
export function noEnvelopeAtImap(st: RunState, t: Instruction): void {
  if (st.env.imap) throw new SieveRuntimeError(t.offset, 'the envelope test cannot be used for an IMAP event (RFC 6785 §4.6)');
}

/** A prepared header, address or envelope test (prepare.ts). */
function evaluatePrepared(st: RunState, t: Instruction, p: PreparedTest): boolean {
  if (p.memo < 0) return comparePrepared(st, t, p, preparedValues(st, t, p));
  const bit = 1 << p.memo;
  if ((st.memoAsked & bit) !== 0) return (st.memoTrue & bit) !== 0;
  const answer = comparePrepared(st, t, p, preparedValues(st, t, p));
  st.memoAsked |= bit;
  st.memoTrue = answer ? st.memoTrue | bit : st.memoTrue & ~bit;
  return answer;
}

/** The values a prepared test compares: its field's (decoded, or one part of each address), or one part of the envelope. */
export function preparedValues(st: RunState, t: Instruction, p: PreparedTest): string[] {
  return valuesAt(st, t, t.name === 'header', p.slot, p.envelope, t.addressPart);
}

/**
 * preparedValues from the fields it reads, given apart: a rule group (run.ts) keeps copies of them
 * on itself so that a run touches fewer objects (groups.ts).
 */
export function valuesAt(st: RunState, t: Instruction, header: boolean, slot: number, envelope: PreparedTest['envelope'], part: Instruction['addressPart']): string[] {
  if (envelope !== null) {
    noEnvelopeAtImap(st, t);
    return st.envelopeParts(envelope, part);
  }
  return header ? st.msg.decodedAt(slot) : st.msg.addressPartsAt(slot, part, st.separator);
}

/**
 * compareValues for a prepared test (prepare.ts): the keys folded and the patterns cut at compile
 * time, no match variables to set (the script has none), so nothing is looked up or made per key.
 */
export function comparePrepared(st: RunState, t: Instruction, p: PreparedTest, values: string[]): boolean {
  if (values.length === 0) return false;
  const segments = p.segments;
  if (segments !== null) {
    const budget = st.budget;
    for (const v of values) {
      const value = st.matchable(v, p.fold);
      for (let k = 0; k < segments.length; k++) {
        budget.used = 0; // each value-key comparison has a budget of its own (docs/sieve.md)
        if (matchesSegments(value, segments[k]!, budget)) return true;
        st.checkClock(t);
      }
    }
    return false;
  }
  const vs = p.fold ? st.folded(values) : values;
  const keys = p.keys;
  const is = t.match.kind === 'is';
  for (const v of vs) {
    for (let k = 0; k < keys.length; k++) if (is ? v === keys[k] : v.includes(keys[k]!)) return true;
    st.checkClock(t);
  }
  return false;
}

/** The comparison at the heart of every test: values against keys with the test's match type. */
export function compareValues(st: RunState, t: Instruction, values: string[], keys: string[]): boolean {
  const m = t.match;
  const comparator = t.comparator;
  if (m.kind === 'count' || m.kind === 'value') return compareRelational(st, t, values, keys);
  if (m.kind === 'matches') {
    const fold = comparator === 'i;ascii-casemap';
    const budget = st.budget;
    for (const v of values) {
      const value = st.matchable(v, fold); // once per value and run, not once per key and test
      for (const k of keys) {
        budget.used = 0; // each value-key comparison has a budget of its own (docs/sieve.md)
        const captures = matchValue(value, k, budget);
        if (captures) {
          if (st.variables) st.vars.setMatches(captures);
          return true;
        }
        st.checkClock(t);
      }
    }
    return false;
  }
  // :is and :contains: under i;ascii-casemap both sides are folded once, then compared as octets.
  const fold = comparator === 'i;ascii-casemap';
  const vs = fold ? st.folded(values) : values;
  const ks = fold ? foldedKeys(t, keys) : keys;
  const plain = fold ? 'i;octet' : comparator;
  for (const v of vs) {
    for (const k of ks) {
      if (m.kind === 'is' ? equals(plain, v, k) : contains(plain, v, k)) return true;
    }
    st.checkClock(t);
  }
  return false;
}
