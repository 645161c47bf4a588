/**
 * Rule groups, decided at compile time: a run of consecutive `if` commands whose tests are
 * prepared (prepare.ts) and read the same values — the same header field, or the same part of the
 * same address field or envelope address, under the same comparator — is answered as one. The
 * values are read once for the group; when there are none, every member is false at once; the
 * `:is` members are one map lookup per value (key → the members that have it); the `:contains`
 * and `:matches` members are skipped together when no value contains a string each of them needs
 * (`needle`); only the members left are compared one by one. Then the members' blocks run in
 * order, as the commands would have. A member's test may also be an `allof` whose first test is
 * such a test (keyTest): that first test is answered with the group's, and the allof's other
 * tests are asked only when it matched, in the member's turn — four invoice rules that each ask
 * `allof (header :contains "subject" "invoice", …)` are then skipped together on a Subject
 * without "invoice".
 *
 * Why: at delivery the interpreter meets caches the rest of the server has just used, and a run's
 * cost is the cache lines it loads more than the instructions it runs — each rule's command, test,
 * prepared test, key list and keys (bench/RESULTS.md, issue 17). Ten rules testing the sender's
 * domain are then a map and one lookup, not fifty objects.
 *
 * When it is the same: a prepared test depends only on the message's header and envelope (the
 * script has no variables: prepare.ts), which nothing in a block can change unless the script can
 * use editheader (RFC 5293) — such scripts are not grouped. So a member's test answers the same
 * whether it is asked before or after the blocks of the members above it run; a block that stops,
 * fails or adds actions only decides whether the later answers are used, as it would have decided
 * whether they were asked. A member must not be followed by `elsif` or `else` (whose test depends
 * on the `if` before it).
 */
import type { Instruction, PreparedTest, RuleGroup } from './program.js';
import { segmentsOf } from './match.js';

/** Members per group: one bit each in a small integer. */
const MAX_MEMBERS = 30;

/** Groups the rules of `commands` and of every block in it (sets Instruction.group on each group's first command). */
export function groupRules(commands: readonly Instruction[], requires: ReadonlySet<string>): void {
  // editheader changes the values a later test reads: every test must be asked in its turn.
  if (requires.has('editheader')) return;
  const visit = (list: readonly Instruction[]): void => {
    let i = 0;
    while (i < list.length) {
      const key = memberKey(list, i);
      let n = 1;
      if (key !== null) while (n < MAX_MEMBERS && i + n < list.length && memberKey(list, i + n) === key) n++;
      if (key !== null && n >= 2) list[i]!.group = makeGroup(list, i, n);
      for (let k = i; k < i + n; k++) {
        const block = list[k]!.block;
        if (block) visit(block);
      }
      i += n;
    }
  };
  visit(commands);
}

/**
 * The test a member's values are compared by: the `if`'s test when it is prepared, or the first
 * test of an `allof` when that one is (`allof (header :contains "subject" "invoice", …)`: the
 * allof is false unless its first test is true, and the others are asked only then, in the
 * member's turn — run.ts, Runner.members). Null: the command cannot be a member.
 */
export function keyTest(c: Instruction): Instruction | null {
  const t = c.tests[0];
  if (!t) return null;
  if (t.prepared) return t;
  if (t.name === 'allof' && t.tests[0]?.prepared) return t.tests[0];
  return null;
}

/** What the values of list[i]'s test are (its source and comparator), or null when it cannot be a member. */
function memberKey(list: readonly Instruction[], i: number): string | null {
  const c = list[i]!;
  if (c.name !== 'if' || c.block === null) return null;
  const next = list[i + 1];
  if (next && (next.name === 'elsif' || next.name === 'else')) return null;
  const t = keyTest(c);
  const p = t?.prepared;
  if (!t || !p) return null;
  const part = t.name === 'header' ? '' : t.addressPart;
  return `${t.name} ${p.slot} ${p.envelope ?? ''} ${part} ${p.fold ? 'fold' : 'octet'}`;
}

function makeGroup(list: readonly Instruction[], start: number, count: number): RuleGroup {
  const first = keyTest(list[start]!)!;
  const source = first.prepared!;
  let keys: Map<string, number> | null = null;
  let others = 0;
  let rest = 0;
  const needs: Array<string | null> = [];
  for (let k = 0; k < count; k++) {
    const c = list[start + k]!;
    const t = keyTest(c)!;
    const p = t.prepared!;
    const bit = 1 << k;
    if (t !== c.tests[0]) rest |= bit;
    if (t.match.kind === 'is') {
      keys ??= new Map();
      for (const key of p.keys) keys.set(key, (keys.get(key) ?? 0) | bit);
    } else {
      others |= bit;
      needs.push(needed(t, p));
    }
  }
  return {
    count,
    source: first,
    header: first.name === 'header',
    slot: source.slot,
    envelope: source.envelope,
    part: first.addressPart,
    rest,
    fold: source.fold,
    keys,
    others,
    needle: needs.length >= 2 ? commonPrefix(needs) : null,
  };
}

/**
 * A string a value must contain for the test to match any of its keys (folded as the comparison
 * folds), or null when there is none: for :contains the key, for :matches the pattern's first
 * run of literal characters; with several keys, what they all begin with.
 */
function needed(t: Instruction, p: PreparedTest): string | null {
  const strings: Array<string | null> = [];
  for (const key of p.keys) {
    if (t.match.kind === 'contains') {
      strings.push(key);
    } else {
      const literal = segmentsOf(key, p.fold).find((s) => s.literal !== null && s.literal !== '');
      strings.push(literal?.literal ?? null);
    }
  }
  return commonPrefix(strings);
}

/** The longest string all of `strings` begin with; null when one is null or nothing is shared. */
function commonPrefix(strings: ReadonlyArray<string | null>): string | null {
  const first = strings[0];
  if (first === undefined || first === null) return null;
  let prefix = first;
  for (const s of strings) {
    if (s === null) return null;
    let n = 0;
    while (n < prefix.length && n < s.length && prefix.charCodeAt(n) === s.charCodeAt(n)) n++;
    prefix = prefix.slice(0, n);
  }
  return prefix === '' ? null : prefix;
}
