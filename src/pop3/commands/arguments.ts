/** Argument shapes several commands share. Pure; errors are CommandSyntaxError (→ -ERR). */
import { CommandSyntaxError, parseMessageNumber, type CommandLine } from '../wire/command-line.js';

export function noArguments(line: CommandLine): void {
  if (line.args.length > 0) throw new CommandSyntaxError(`${line.keyword} takes no arguments`);
}

/** One required message number (RETR, DELE). */
export function oneMessageNumber(line: CommandLine): number {
  if (line.args.length !== 1) throw new CommandSyntaxError(`${line.keyword} takes one message number`);
  return parseMessageNumber(line.args[0]);
}

/** An optional message number (LIST, UIDL). */
export function optionalMessageNumber(line: CommandLine): number | undefined {
  if (line.args.length > 1) throw new CommandSyntaxError(`${line.keyword} takes at most one message number`);
  return line.args.length === 0 ? undefined : parseMessageNumber(line.args[0]);
}
