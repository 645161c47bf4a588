/**
 * One POP3 command line → keyword and arguments. No I/O, no store.
 *
 * RFC 1939 §3: a keyword of three or four characters, case-insensitive, then arguments separated
 * by a single space, each up to 40 characters. PASS takes the rest of the line as it is (§7:
 * "a POP3 server may treat spaces in the argument as part of the password"), so `rest` keeps it.
 */
export interface CommandLine {
  /** Upper-cased keyword. */
  keyword: string;
  /** Space-separated arguments (runs of spaces count as one separator). */
  args: string[];
  /** Everything after the keyword and one space, unchanged. */
  rest: string;
}

export class CommandSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandSyntaxError';
  }
}

export const MAX_ARGUMENT_LENGTH = 40;

export function parseCommandLine(line: string): CommandLine {
  const space = line.indexOf(' ');
  const word = space === -1 ? line : line.slice(0, space);
  if (word.length === 0) throw new CommandSyntaxError('Empty command');
  if (!/^[A-Za-z]{1,16}$/.test(word)) throw new CommandSyntaxError('Command keywords are letters only');
  const rest = space === -1 ? '' : line.slice(space + 1);
  const args = rest.split(' ').filter((a) => a.length > 0);
  return { keyword: word.toUpperCase(), args, rest };
}

/**
 * A message number as RFC 1939 spells it: decimal digits, no sign. Range checks against the
 * maildrop happen in the command; this only rejects what is not a number at all.
 */
export function parseMessageNumber(text: string | undefined): number {
  if (text === undefined) throw new CommandSyntaxError('Message number required');
  if (!/^[0-9]{1,10}$/.test(text)) throw new CommandSyntaxError(`Invalid message number: ${printable(text)}`);
  return Number(text);
}

/** A non-negative line count (TOP's second argument). */
export function parseLineCount(text: string | undefined): number {
  if (text === undefined) throw new CommandSyntaxError('Number of lines required');
  if (!/^[0-9]{1,10}$/.test(text)) throw new CommandSyntaxError(`Invalid number of lines: ${printable(text)}`);
  return Number(text);
}

/** Echoing client input in a reply: keep it short and free of control characters. */
export function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > MAX_ARGUMENT_LENGTH ? `${clean.slice(0, MAX_ARGUMENT_LENGTH)}...` : clean;
}
