/**
 * A validated script, as the interpreter runs it: every command and test resolved against its
 * specification (spec.ts), tags gathered by name, the comparator, match type and address part
 * chosen, and strings already decoded for encoded-character (RFC 5228 §2.4.2.4).
 */

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
}

export interface Program {
  requires: Set<string>;
  commands: Instruction[];
}
