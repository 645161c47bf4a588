/**
 * The tests: each returns true or false for the message (RFC 5228 §5 and the extensions'
 * tests), short-circuiting left to right (RFC 5229 §3.2), setting the match variables on a
 * successful :matches when the script uses variables.
 */
import type { Instruction } from './program.js';
import { contains, equals, order, relation, StepBudget, wildcardMatch } from './match.js';
import { addressPart, splitEnvelopeAddress, type SplitAddress } from './message.js';
import { canonicalFlags, SieveRuntimeError, type RunState } from './state.js';
import { bodyStrings } from './body.js';
import { datePart, parseHeaderDate, zoneMinutes, type ZonedTime } from './date.js';
import { RELATIONAL_OPS } from './spec.js';

export async function evaluate(st: RunState, t: Instruction): Promise<boolean> {
  st.checkClock(t);
  switch (t.name) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !(await evaluate(st, t.tests[0]!));
    case 'allof':
      for (const x of t.tests) if (!(await evaluate(st, x))) return false;
      return true;
    case 'anyof':
      for (const x of t.tests) if (await evaluate(st, x)) return true;
      return false;
    case 'exists':
      return st.list(t.pos[0]).every((h) => st.msg.has(h));
    case 'size': {
      const n = t.pos[0] as number;
      return t.tags.has('over') ? st.env.size > n : st.env.size < n;
    }
    case 'header': {
      const values = st.list(t.pos[0]).flatMap((h) => pickField(t, st.msg.decoded(h)));
      return compareValues(st, t, values, st.list(t.pos[1]));
    }
    case 'address': {
      const addrs = st.list(t.pos[0]).flatMap((h) => pickField(t, st.msg.addressesByField(h)).flat());
      return compareValues(st, t, parts(st, t, addrs), st.list(t.pos[1]));
    }
    case 'envelope': {
      const addrs: SplitAddress[] = [];
      for (const p of st.list(t.pos[0])) {
        const which = p.toLowerCase();
        if (which === 'from') addrs.push(splitEnvelopeAddress(st.env.envelope.from));
        else if (which === 'to') addrs.push(splitEnvelopeAddress(st.env.envelope.to));
      }
      return compareValues(st, t, parts(st, t, addrs), st.list(t.pos[1]));
    }
    case 'mailboxexists':
      for (const m of st.list(t.pos[0])) if (!(await st.env.mailboxExists(m))) return false;
      return true;
    case 'hasflag': {
      const flags = t.pos.length === 2 ? canonicalFlags(st.list(t.pos[0]).map((v) => st.vars.get(v))) : st.flags;
      return compareValues(st, t, flags, canonicalFlags(st.list(t.pos[t.pos.length - 1])));
    }
    case 'string': {
      const sources = st.list(t.pos[0]);
      // RFC 5229 §5: for :count, empty strings are not counted.
      const values = t.match.kind === 'count' ? sources.filter((s) => s !== '') : sources;
      return compareValues(st, t, values, st.list(t.pos[1]));
    }
    case 'body': {
      const body = await st.body();
      const content = t.tags.get('content');
      const transform = t.tags.has('raw') ? 'raw' : Array.isArray(content) ? st.list(content) : 'text';
      const key = JSON.stringify(transform);
      let strings = st.bodyStrings.get(key);
      if (!strings) st.bodyStrings.set(key, (strings = bodyStrings(st.header, body, transform)));
      return compareValues(st, t, strings, st.list(t.pos[0]));
    }
    case 'date':
    case 'currentdate':
      return dateTest(st, t);
    default:
      throw new SieveRuntimeError(t.offset, `test "${t.name}" is not implemented`);
  }
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

/** The comparison at the heart of every test: values against keys with the test's match type. */
export function compareValues(st: RunState, t: Instruction, values: string[], keys: string[]): boolean {
  const m = t.match;
  const comparator = t.comparator;
  if (m.kind === 'count' || m.kind === 'value') {
    const op = st.str(m.op).toLowerCase();
    if (!RELATIONAL_OPS.has(op)) throw new SieveRuntimeError(t.offset, `unknown relational operator "${op}"`);
    if (m.kind === 'count') return keys.some((k) => relation(op, order(comparator, String(values.length), k)));
    return values.some((v) => keys.some((k) => relation(op, order(comparator, v, k))));
  }
  for (const v of values) {
    for (const k of keys) {
      if (m.kind === 'is' && equals(comparator, v, k)) return true;
      if (m.kind === 'contains' && contains(comparator, v, k)) return true;
      if (m.kind === 'matches') {
        const budget = new StepBudget(st.limits.maxMatchSteps);
        const captures = wildcardMatch(v, k, comparator === 'i;ascii-casemap', budget);
        if (captures) {
          if (st.uses('variables')) st.vars.setMatches(captures);
          return true;
        }
        st.checkClock(t);
      }
    }
  }
  return false;
}
