/**
 * A validated script, as the interpreter runs it: every command and test resolved against its
 * specification (spec.ts), tags gathered by name, the comparator, match type and address part
 * chosen, and strings already decoded for encoded-character (RFC 5228 §2.4.2.4).
 */

import type { Segments } from './match.js';

export type Value = string | string[] | number;

export type MatchType =
  | { kind: 'is' }
  | { kind: 'contains' }
  | { kind: 'matches' }
  /** RFC 5231 relational: the operator (gt, ge, lt, le, eq, ne), possibly from a variable. */
  | { kind: 'count'; op: string }
  | { kind: 'value'; op: string };

export type AddressPart = 'all' | 'localpart' | 'domain' | 'user' | 'detail';

export interface Instruction {
  name: string;
  /** Offset in the source, for runtime errors. */
  offset: number;
  /** Tags present, by name without the colon: `true` for a flag tag, else the tag's value. */
  tags: Map<string, true | Value>;
  /** Positional arguments in order. */
  pos: Value[];
  tests: Instruction[];
  block: Instruction[] | null;
  /** For tests that compare: the comparator (default i;ascii-casemap), match type and address part. */
  comparator: string;
  match: MatchType;
  addressPart: AddressPart;
  /** What a run of a script without variables would otherwise look up for this test again and again (prepare.ts); else null. */
  prepared: PreparedTest | null;
  /** On the first of a run of `if` commands answered together (groups.ts); else null. */
  group: RuleGroup | null;
}

/**
 * Consecutive `if` commands (this one and the `count - 1` after it) whose prepared tests read the
 * same values under the same comparator, answered together (groups.ts). Member k is bit `1 << k`.
 */
export interface RuleGroup {
  count: number;
  /** The first member's key test: the place of a failure reading the values. */
  source: Instruction;
  /**
   * Where the values come from, copied from the source's prepared test: a group that matches
   * nothing (most, on most messages) then touches this object and its keys only, not the source
   * test and its prepared form too — at delivery each is a cache line loaded cold.
   */
  header: boolean;
  /** The field's slot (header, address), as PreparedTest.slot. */
  slot: number;
  /** envelope: the part of the envelope tested; else null. */
  envelope: 'from' | 'to' | null;
  /** address and envelope: the part of each address. */
  part: AddressPart;
  /**
   * Members whose test is `allof` (its first test the key test, prepared): when the key test
   * matches, the allof's other tests are asked in the member's turn (RFC 5228 §5.1 order kept).
   */
  rest: number;
  /** The comparison folds case (i;ascii-casemap). */
  fold: boolean;
  /** The :is members' keys (folded when the comparison folds) → the members that have the key. */
  keys: Map<string, number> | null;
  /** The :contains and :matches members, compared one by one. */
  others: number;
  /** A string every one of `others` needs a value to contain to match (folded as the comparison folds); null: none. */
  needle: string | null;
}

/**
 * A header, address or envelope test of the usual shape — one field (or envelope part), no
 * :index, :is/:contains/:matches under i;octet or i;ascii-casemap, a script without variables —
 * with its arguments made ready once at compile time: the field's slot in the run's MessageView,
 * the keys folded, the :matches patterns cut.
 */
export interface PreparedTest {
  /** header and address: the field's slot (Program.fields); envelope: -1. */
  slot: number;
  /** envelope: the part of the envelope tested; else null. */
  envelope: 'from' | 'to' | null;
  /** The comparison folds case (i;ascii-casemap). */
  fold: boolean;
  /** :is and :contains: the keys, folded when the comparison folds. */
  keys: string[];
  /** :matches: each key cut at its stars (folded when the comparison folds); else null. */
  segments: Segments[] | null;
  /** The same test is written more than once: its answer's bit in the run's memo (prepare.ts; 0–29); else -1. */
  memo: number;
}

export interface Program {
  requires: Set<string>;
  /** The capabilities offered when it was compiled (the ihave test asks about them). */
  available: ReadonlySet<string>;
  commands: Instruction[];
  /**
   * The header fields the prepared tests read (lower-cased name → slot): a run's MessageView
   * finds these while it scans the header, and keeps nothing of the others until asked.
   */
  fields: FieldSlots;
  /** Memo slots of the tests written more than once (PreparedTest.memo). */
  memos: number;
}

/** Header field names by slot: `names[i]` (lower-cased) has slot i, and `slots` says the reverse. */
export interface FieldSlots {
  names: readonly string[];
  slots: ReadonlyMap<string, number>;
}
