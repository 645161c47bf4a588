/**
 * The syntax tree of a Sieve script (RFC 5228 §8.2) as the parser builds it, before validation.
 * Every node keeps the offset of its first character in the source, so that the validator can
 * report errors by line and column (src/sieve/position.ts).
 */

export interface StringArg {
  kind: 'string';
  value: string;
  offset: number;
  /** Written as `text:` … `.` (RFC 5228 §2.4.2) rather than in quotes. */
  multiline: boolean;
}

export interface ListArg {
  kind: 'list';
  items: StringArg[];
  offset: number;
}

export interface NumberArg {
  kind: 'number';
  value: number;
  offset: number;
}

export interface TagArg {
  kind: 'tag';
  /** Lower-cased, without the colon. */
  name: string;
  offset: number;
}

export type Argument = StringArg | ListArg | NumberArg | TagArg;

/** A command or a test: identifier, arguments, and the tests and block that follow. */
export interface SieveNode {
  /** Lower-cased identifier (RFC 5228 §8.1: identifiers are case-insensitive). */
  name: string;
  offset: number;
  args: Argument[];
  /** The test or tests in the argument list. */
  tests: SieveNode[];
  /** True when the tests were written as a parenthesised test-list. */
  testList: boolean;
  /** The block of a command (`{ … }`), null when it ended with `;` (and always for tests). */
  block: SieveNode[] | null;
}
